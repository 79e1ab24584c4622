"""Run a generated bash completion as bash's programmable completion would (doc_cli.py,
doc_nfmd.py)."""
import os
import subprocess


def complete(completion, func, line, cwd=None):
    """(COMPREPLY as a set, bash's stderr) for the cursor at the end of LINE: COMPLETION
    sourced in a plain bash, its function FUNC called with COMP_WORDS split at blanks."""
    script = f"""
source {os.path.abspath(completion)!r}
COMP_LINE={line!r}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
{func}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, timeout=30, cwd=cwd)
    return set(p.stdout.split()), p.stderr.strip()
