"""The HTML stage: read a charter page, and write the registry back into it.

One line of flow: :mod:`.parse` reads the page once (an HTML5 tree, as a
browser builds it) into cookie tables; :mod:`ods_charter.diff` compares their
records with the registry (the change set, row by row); :mod:`.splice` applies
that change set to the page's bytes, rows edited in place or tables rebuilt by
:mod:`.render`, and proves by reading the result that nothing outside the
tables it read has changed. :mod:`.vocabulary` holds the words of every
language this reads and writes.
"""
