"""A Koha library as mislink's library (``library.kind = "koha"``).

Koha is the library; ``mislink_borrowers`` is a mirror of Koha's pupil and
staff patrons (the configured student, staff and leaver categories), linked
one to one in ``mislink_koha_patrons``. Every locked transaction on such a
library first brings the mirror up to date from Koha (``pull``) and, just
before it commits, writes what it changed in the mirror back to Koha
(``push``), so every engine operation works unchanged and one transaction
covers Koha's tables and mislink's. An unlocked (read-only) transaction is
preceded by a short locked one that pulls and commits.

- ``tables``: Koha's tables, reflected once per connect, and the checks that
  the database is a Koha mislink can use (refusals naming the config key).
- ``mirror``: how a Koha patron reads as a mirror row, and what a mirror
  column becomes in Koha.
- ``pull`` and ``push``: the two directions.
- ``fingerprint``: whether Koha looks unchanged, so a read need not pull.
- ``watch``: whether the mirror was written since the last push, so a
  second push in one transaction need not read it again.
- ``bridge``: which engines are Koha libraries, and the transaction hooks.
- ``setup``: ``mislink koha setup``, the patron attribute types.
"""
