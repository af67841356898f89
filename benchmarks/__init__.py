"""Side-by-side benchmarks: each mailcore operation against a peer doing the
same job the obvious way, measured in the same run on the same data."""
