"""The bundled demo: ``make demo`` runs ``python -m mailcore.demo``.

It uses only the embedded default policy and the sample messages in this
folder, and prints what it did.  Later components extend it.
"""
