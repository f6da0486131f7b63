"""WeasyPrint's first-use costs, paid once in the fork server rather than in every worker.

Imported only by a fork server that handout mail starts (pool.start_early): a
process's first document costs WeasyPrint a tenth of a second more than any
later one (cffi parses the C declarations it uses, the HTML parser and Pango
start). Paid here once, every worker forked from the server starts with it
paid, and a run of handout mail starts five. The document has its own font
configuration, gone before anything forks: the workers make theirs.
"""

from .engine import weasyprint

weasyprint.HTML(string="<p>Prepared for <b>you</b>: 1 <i>page</i>.</p>").write_pdf()
