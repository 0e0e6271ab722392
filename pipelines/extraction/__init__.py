"""The extraction domain: from a parsed page to the record's fields.

A page's path through it, in the order ``pipelines/work.py`` takes it:

1. ``article.extract_article`` reads the page's markup (JSON-LD, meta tags), prunes a copy
   of the tree (``prune``: captions, share bars, newsletter boxes, bylines and datelines)
   and hands it to trafilatura for the body, retried for recall when the body falls far
   short of the page's prose;
2. the headline (``title``), the byline's names (``bylines`` finds them on the page,
   ``authors`` keeps real people and desks), the lead under the headline (``standfirst``),
   and the body's clean-up (``text``: title line, teasers, boilerplate lines);
3. the fields the markup leaves open from trafilatura's own rules (``fallback``, reading the
   page's named elements through ``markup_rules``);
4. the dates: ``datefind`` lists where the page states them, ``placement`` tells the
   article's own from those in boxes about other stories, and ``pipelines/dates.py``
   chooses and normalises them to UTC.
"""
