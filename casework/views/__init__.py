"""Case work in the browser (the API's twin): thin views over services and reads.

Every case is fetched with ``access.get_visible_or_404`` (a hidden case is 404, nested
pages and downloads included); the user's permissions on it are loaded once per page;
every write is a service call and every read of identity, location, notes and documents
goes through ``reads`` so that it is audited. The case page is ``case_page``, a section
at a time; the pages of each part of a case are the modules named for it.
"""
