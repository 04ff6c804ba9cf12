"""The site: what readers see, made only from verified data.

``views`` (the frozen values templates receive) built with ``tex`` and
``authors``; ``chars`` (the characters no output may carry); ``summary`` (the small part of a view that site-wide pages
list); ``theme`` (templates, static files, the one Jinja environment);
``render`` (every page and derived file); ``listings``, ``aliases``,
``search``, ``pages`` (Markdown pages) and ``frontmatter`` (their YAML front matter); ``hosts`` (the
host profiles: the host files a tree gets and the limits it is checked against); ``strings`` (UI strings).
"""
