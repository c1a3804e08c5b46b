"""Live feeds: fetching a school's data over the web into a snapshot folder.

A feed (``xod``: Groupcall Xporter on Demand; ``wonde``) fetches into a new
snapshot folder in the export-folder format (``archive``), page by page, over
one small HTTP client with bounded retries (``http``). The folder reader then
reads that snapshot exactly as it reads any export folder.
"""
