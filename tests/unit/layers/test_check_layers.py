#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/check-layers on tiny trees: a clean one passes, each kind of wrong include fails."""
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'scripts',
                      'check-layers')

CLEAN = {
    'include/nfm/nfm.h': '#include <stdint.h>\n',
    'lib/util/log.h': '',
    'lib/source/source.h': '#include "util/log.h"\n',
    'lib/source/x.c': '#include <stdio.h>\n#include <nfm/nfm.h>\n#include "source/source.h"\n',
    'lib/core/context.h': '#include "source/source.h"\n',
    'lib/walk/list.h': '#include "core/context.h"\n',
    'lib/module/modules.h': '#include "walk/list.h"\n',
    'lib/task/task.h': '#include "walk/list.h"\n',
    'lib/fs/path.h': '',
    'lib/mm/mm.c': '#include "fs/path.h"\n#include "module/modules.h"\n',
    'lib/net/net_sock.h': '#include "core/context.h"\n',
    'lib/net/net_sock.c': '#include <net/if.h>\n#include "net/net_sock.h"\n',
    'lib/check/xview.c': '#include "net/net_sock.h"\n#include "task/task.h"\n',
    'cmd/common/cli.h': '#include <nfm/nfm.h>\n',
    'cmd/nfm/main.c': '#include <stdio.h>\n#include "cli.h"\n#include <nfm/nfm.h>\n',
}


def run(files):
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), 'w') as fh:
                fh.write(text)
        p = subprocess.run([sys.executable, SCRIPT, '--root', root], capture_output=True,
                           text=True)
        return p.returncode, p.stdout


# (what, file to plant into, include lines appended to it, text the report must hold)
PLANTED = [
    ('source includes a walker', 'lib/source/x.c', '#include "net/net_sock.h"\n',
     'lib/source/x.c:4 includes net/net_sock.h (layer source may not include layer net)'),
    ('core calls up into a module walker', 'lib/core/context.h', '#include "module/modules.h"\n',
     'lib/core/context.h:2 includes module/modules.h (layer core may not include layer module)'),
    ('domain includes a domain the matrix does not list', 'lib/task/task.h',
     '#include "net/net_sock.h"\n', '(layer task may not include layer net)'),
    ('a walker includes a tool header', 'lib/task/task.h', '#include "../../cmd/common/cli.h"\n',
     '(layer task may not include layer tool)'),
    ('a tool includes a lib internal', 'cmd/nfm/main.c', '#include "core/context.h"\n',
     'cmd/nfm/main.c:4 includes core/context.h (a tool includes only <nfm/...>'),
    ('a tool includes a lib internal with <>', 'cmd/nfm/main.c', '#include <walk/list.h>\n',
     'cmd/nfm/main.c:4 includes walk/list.h'),
    ('a public header includes a lib internal', 'include/nfm/nfm.h',
     '#include "util/log.h"\n#include "core/context.h"\n',
     'include/nfm/nfm.h:3 includes core/context.h (layer api may not include layer core)'),
    ('a folder with no layer', 'lib/newthing/a.c', '', 'lib/newthing has no layer'),
    ('a header that shadows a system header', 'lib/net/if.h', '',
     'lib/net/if.h shadows the system header <net/if.h>'),
    ('a stale include', 'lib/task/task.h', '#include "kernel/kernel.h"\n',
     'includes kernel/kernel.h (not found'),
]

failures = 0


def expect(what, got, want_rc, want_text):
    global failures
    if got[0] != want_rc or want_text not in got[1]:
        failures += 1
        print('FAIL: %s: exit %d (want %d), output %r (want %r)' % (what, got[0], want_rc,
                                                                    got[1], want_text))
    else:
        print('ok: %s' % what)


expect('clean tree', run(CLEAN), 0, '')
for what, path, text, want in PLANTED:
    files = dict(CLEAN)
    files[path] = files.get(path, '') + text
    expect(what, run(files), 1, want)
sys.exit(1 if failures else 0)
