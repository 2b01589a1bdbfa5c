"""Run every shell command in the documentation, as a user would.

    python tools/misc/check_docs.py [FILE.md ...]   (default: README-linked docs/*.md)

Every fenced ```bash block of the given Markdown files is run, command by
command (lines ending in a backslash are joined), with bash in the
repository root and the virtualenv's bin first on PATH, so that `python` is
the project's. A command that fails stops the check with its output.
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FENCE = re.compile(r'^```bash\n(.*?)^```', re.M | re.S)


def commands(path: str) -> list:
    with open(path) as f:
        text = f.read()
    found = []
    for block in FENCE.findall(text):
        joined = block.replace('\\\n', ' ')
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith('#'):
                found.append(line)
    return found


def main() -> int:
    files = sys.argv[1:] or sorted(glob.glob(osp.join(ROOT, 'docs', '*.md')))
    env = dict(os.environ)
    env['PATH'] = osp.join(ROOT, '.venv', 'bin') + os.pathsep + env['PATH']
    passed = failed = 0
    for path in files:
        for command in commands(path):
            tic = time.time()
            proc = subprocess.run(['bash', '-c', command], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            status = 'ok' if proc.returncode == 0 else 'FAILED'
            print(f'[{status}] {osp.basename(path)} ({time.time() - tic:.0f}'
                  f' s): {command}', flush=True)
            if proc.returncode:
                failed += 1
                print(proc.stdout[-2000:], proc.stderr[-4000:], sep='\n')
                break
            passed += 1
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
