"""`handout serve`: a local web page over a project, for people who do not use a terminal.

app.py maps requests to the Python API (through project.py); guard.py keeps the page
to the browser of the person who started it.
"""
