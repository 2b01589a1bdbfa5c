"""The documentation index links every page, and every link resolves."""
import glob
import os.path as osp
import re

from .conftest import ROOT

LINK = re.compile(r'\]\(([^)#]+)\)')


def test_index_links_every_page_and_links_resolve():
    docs = osp.join(ROOT, 'docs')
    with open(osp.join(docs, 'index.md')) as f:
        index = f.read()
    linked = set(LINK.findall(index))
    pages = {osp.basename(p) for p in glob.glob(osp.join(docs, '*.md'))}
    assert pages - {'index.md'} <= linked
    for page in glob.glob(osp.join(docs, '*.md')) + [
            osp.join(ROOT, 'README.md')]:
        with open(page) as f:
            for target in LINK.findall(f.read()):
                if '://' in target:
                    continue
                path = osp.normpath(osp.join(osp.dirname(page), target))
                assert osp.exists(path), f'{page}: broken link {target}'
