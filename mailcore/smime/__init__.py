"""S/MIME 4.0 (RFC 8551) on CMS (RFC 5652): sign, verify, encrypt, decrypt.

CMS is parsed with asn1crypto (BER tolerant), written with mailcore's own DER
writer, and the cryptography is done with ``cryptography`` primitives.
"""
