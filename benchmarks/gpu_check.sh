#!/usr/bin/env bash
# The one prepared check for a CUDA machine: versions, every notebook under nbval's lax
# mode on CUDA (one process per notebook, all at once, each timed), then benchmarks/bench_gpu.py
# with its numbers written as JSON. Nothing is fetched from the network: packages missing on the
# GPU machine (nbval, ipykernel, ipywidgets, ...) are installed from wheels carried along.
#
#   bash benchmarks/gpu_check.sh                 on the GPU machine, from anywhere in the checkout
#   bash benchmarks/gpu_check.sh --dry-run       print what would run, run nothing
#   bash benchmarks/gpu_check.sh --cpu           the same path on a CPU (CNNUTILS_DEVICE=cpu, the
#                                                benchmark's --smoke), to test this script
#   bash benchmarks/gpu_check.sh --fetch-wheels  HERE, with the package registry: download the
#                                                wheels for the GPU machine into $WHEELS
#   --notebooks "a.ipynb b.ipynb"                only these notebooks
#   --no-notebooks, --no-bench                   leave out a part (for a rerun)
#
# Environment: OUT (results; the device tool sets it, else _build/gpu_check), PYTHON (python3),
# WHEELS (_build/wheels), GPU_CHECK_BUDGET_S (whole run, 510 s), GPU_CHECK_NB_BUDGET_S (the
# notebooks, 210 s), GPU_CHECK_JOBS (notebooks at once, 8), GPU_CHECK_BENCH_MAX_S (270 s).
# Results in $OUT: versions.txt, nbval.log, bench_gpu.log, bench_gpu.json, summary.txt.
# Exit status: 0 if every notebook passed and the benchmark ran without error, else 1.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

MODE=gpu
DRY=0
SKIP_NB=0
SKIP_BENCH=0
NOTEBOOKS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --cpu) MODE=cpu ;;
        --fetch-wheels) MODE=fetch ;;
        --notebooks) shift; NOTEBOOKS="${1:-}" ;;
        --no-notebooks) SKIP_NB=1 ;;
        --no-bench) SKIP_BENCH=1 ;;
        -h|--help) sed -n "2,25p" "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

PYTHON="${PYTHON:-python3}"
WHEELS="${WHEELS:-_build/wheels}"
OUT="${OUT:-_build/gpu_check}"
BUDGET="${GPU_CHECK_BUDGET_S:-510}"
NB_BUDGET="${GPU_CHECK_NB_BUDGET_S:-210}"
JOBS="${GPU_CHECK_JOBS:-8}"
BENCH_MAX="${GPU_CHECK_BENCH_MAX_S:-270}"
# What the notebooks and nbval need beyond torch, torchvision and the scientific stack (which the
# GPU machine's image has): these and their dependencies travel as wheels.
NEEDED="nbval ipykernel ipywidgets nbformat"
# Distributions to download (dependencies of $NEEDED, pure Python or small; versions from
# requirements/constraints.txt). numpy, scipy, pandas, scikit-learn, matplotlib and their own
# dependencies are left out: the image has them, and they would not fit the 64 MiB carried.
WHEEL_DISTS="asttokens attrs comm coverage debugpy executing fastjsonschema iniconfig ipykernel
ipython ipython-pygments-lexers ipywidgets jedi jsonschema jsonschema-specifications
jupyter-client jupyter-core jupyterlab-widgets matplotlib-inline nbformat nbval
nest-asyncio2 packaging parso pexpect platformdirs pluggy prompt-toolkit psutil ptyprocess
pure-eval pygments pytest python-dateutil pyzmq referencing rpds-py stack-data tornado
traitlets typing-extensions tzdata wcwidth widgetsnbextension"
GPU_PYTHON_VERSION=3.12  # the GPU machine's python3 (see the device notes)

now() { date +%s; }
START=$(now)
DEADLINE=$((START + BUDGET))
left() { echo $((DEADLINE - $(now))); }
run() {  # print a command, and run it unless --dry-run
    echo "+ $*"
    [ "$DRY" = 1 ] || "$@"
}

# ------------------------------------------------------------------ here: fetch the wheels
if [ "$MODE" = fetch ]; then
    HERE_PY="${HERE_PYTHON:-.venv/bin/python}"
    pins=$("$HERE_PY" - "$WHEEL_DISTS" <<'EOF'
import re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
pins = {}
for line in open("requirements/constraints.txt"):
    if "==" in line and not line.startswith("#"):
        name, version = line.strip().split("==", 1)
        pins[norm(name)] = version
missing = [d for d in sys.argv[1].split() if norm(d) not in pins]
if missing:
    sys.exit(f"not pinned in requirements/constraints.txt: {missing}")
print(" ".join(f"{d}=={pins[norm(d)]}" for d in sys.argv[1].split()))
EOF
    ) || exit 1
    run mkdir -p "$WHEELS"
    platforms=()
    for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
        manylinux2014_x86_64 manylinux1_x86_64; do
        platforms+=(--platform "$p")
    done
    read -ra pins <<<"$pins"
    run "$HERE_PY" -m pip download --quiet --no-deps --only-binary=:all: \
        --python-version "$GPU_PYTHON_VERSION" --implementation cp \
        --abi "cp${GPU_PYTHON_VERSION/./}" --abi abi3 --abi none \
        "${platforms[@]}" -d "$WHEELS" "${pins[@]}" || exit 1
    if [ "$DRY" = 0 ]; then
        echo "$(find "$WHEELS" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1) in $WHEELS"
        echo "carry it: run(carry=[\"$WHEELS\"], command=\"bash benchmarks/gpu_check.sh\")"
    fi
    exit 0
fi

# ------------------------------------------------------------------ versions
run mkdir -p "$OUT"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
echo "# gpu_check.sh: mode $MODE, budget ${BUDGET} s, results in $OUT"
if [ "$DRY" = 0 ]; then
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "host: $(uname -srm), $(nproc) CPUs"
        echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        if command -v nvidia-smi >/dev/null; then
            nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit \
                --format=csv,noheader 2>&1 | sed 's/^/nvidia-smi: /'
        else
            echo "nvidia-smi: not found"
        fi
        "$PYTHON" - <<'EOF' 2>&1
import platform, torch
print(f"python {platform.python_version()} ({platform.python_implementation()})")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN "
      f"{torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}, "
      f"cuda available: {torch.cuda.is_available()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"device 0: {p.name}, capability {p.major}.{p.minor}, {p.multi_processor_count} SMs, "
          f"{p.total_memory / 2**30:.1f} GiB")
EOF
    } | tee "$OUT/versions.txt"
fi

if [ "$MODE" = gpu ] && [ "$DRY" = 0 ]; then
    if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        echo "gpu_check.sh: torch.cuda.is_available() is False: no GPU here (use --cpu)" >&2
        exit 1
    fi
fi

# ------------------------------------------------------------------ packages, from wheels only
imports_ok() {
    "$PYTHON" -c "import nbval, ipykernel, ipywidgets, nbformat, jupyter_client, \
skimage, sklearn, scipy, matplotlib, torchvision, tqdm" 2>/dev/null
}
EXTRA_PATH=""
pip_offline() { "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index "$@"; }
if [ "$DRY" = 1 ]; then
    echo "+ (if an import fails) $PYTHON -m pip install --no-index --find-links $WHEELS nbval ipykernel ipywidgets nbformat"
elif ! imports_ok; then
    echo "# installing $NEEDED from $WHEELS (no index, no network)"
    if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
        echo "gpu_check.sh: no wheels in $WHEELS: run 'make gpu-wheels' where the registry is" \
            "reachable and carry $WHEELS along" >&2
    # Resolved against what is installed, from the carried wheels.
    elif ! pip_offline --find-links "$WHEELS" nbval ipykernel ipywidgets nbformat; then
        echo "# pip could not resolve into the environment; every carried wheel into $TMP/site"
        pip_offline --no-deps --no-compile --target "$TMP/site" "$WHEELS"/*.whl &&
            EXTRA_PATH="$TMP/site"
    fi
fi
export PYTHONPATH="$ROOT/tests/netguard:$ROOT${EXTRA_PATH:+:$EXTRA_PATH}${PYTHONPATH:+:$PYTHONPATH}"
export TQDM_DISABLE=1 PYTHONUNBUFFERED=1
# Marks every process this run starts, so that kernels a timed-out nbval left behind can be
# found and ended (jupyter_client starts kernels in sessions of their own).
export GPU_CHECK_RUN_ID="gpu_check_$$_$START"
kill_leftover_kernels() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid="${environ#/proc/}"
        pid="${pid%/environ}"
        [ "$pid" != $$ ] || continue
        grep -qa "ipykernel" "/proc/$pid/cmdline" 2>/dev/null || continue
        if tr '\0' '\n' <"$environ" 2>/dev/null | grep -qx "GPU_CHECK_RUN_ID=$GPU_CHECK_RUN_ID"; then
            echo "# ending kernel $pid, left behind by a timed-out notebook"
            kill "$pid" 2>/dev/null
        fi
    done
}
if [ "$MODE" = gpu ]; then DEVICE=cuda; else DEVICE=cpu; fi
NB_OK=1
if [ "$DRY" = 0 ] && ! imports_ok; then
    echo "gpu_check.sh: still missing after the install:" >&2
    "$PYTHON" -c "import nbval, ipykernel, ipywidgets, nbformat" 2>&1 | tail -1 >&2
    NB_OK=0
fi

# ------------------------------------------------------------------ notebooks, nbval lax
[ -n "$NOTEBOOKS" ] || NOTEBOOKS="$(ls notebooks/*.ipynb)"
n_notebooks=$(echo "$NOTEBOOKS" | wc -w)
threads=$(( $(nproc) / (JOBS < n_notebooks ? JOBS : (n_notebooks > 0 ? n_notebooks : 1)) ))
[ "$threads" -ge 1 ] || threads=1
nb_deadline=$(( $(now) + NB_BUDGET ))
[ "$nb_deadline" -le $((DEADLINE - 90)) ] || nb_deadline=$((DEADLINE - 90))

run_notebook() {  # one notebook, its own log and status line
    local nb="$1" name begin rc limit
    name="$(basename "$nb" .ipynb)"
    limit=$((nb_deadline - $(now)))
    begin=$(now)
    if [ "$limit" -lt 5 ]; then
        echo "$name 124 0" >"$TMP/$name.status"
        return
    fi
    # only nbval's plugin: whatever other pytest plugins an image holds stay out of the way
    CNNUTILS_DEVICE="$DEVICE" OMP_NUM_THREADS="$threads" PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 \
        timeout --kill-after=10 "$limit" \
        "$PYTHON" -m pytest -p nbval.plugin "$nb" --nbval-lax --nbval-current-env \
        --nbval-sanitize-with tests/nbval_sanitize.cfg -v -rfE >"$TMP/$name.log" 2>&1
    rc=$?
    echo "$name $rc $(( $(now) - begin ))" >"$TMP/$name.status"
}

if [ "$SKIP_NB" = 1 ]; then
    NOTEBOOKS=""
    n_notebooks=0
elif [ "$NB_OK" = 1 ]; then
    echo "# nbval --nbval-lax, CNNUTILS_DEVICE=$DEVICE: $n_notebooks notebooks, $JOBS at a time," \
        "$threads CPU threads each, $((nb_deadline - $(now))) s for all"
    for nb in $NOTEBOOKS; do
        if [ "$DRY" = 1 ]; then
            echo "+ CNNUTILS_DEVICE=$DEVICE OMP_NUM_THREADS=$threads PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 timeout <time left> $PYTHON -m pytest -p nbval.plugin $nb --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -v -rfE"
            continue
        fi
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
        run_notebook "$nb" &
    done
    wait
    [ "$DRY" = 1 ] || kill_leftover_kernels
fi

NB_FAILED=0
{
    echo "## notebooks (nbval --nbval-lax, CNNUTILS_DEVICE=$DEVICE; wall seconds, up to" \
        "$(( JOBS < n_notebooks ? JOBS : n_notebooks )) running at once)"
    for nb in $NOTEBOOKS; do
        name="$(basename "$nb" .ipynb)"
        if [ ! -f "$TMP/$name.status" ]; then
            echo "$name: not run"
            NB_FAILED=1
            continue
        fi
        read -r _ rc seconds <"$TMP/$name.status"
        last="$(grep -E '(passed|failed|error)' "$TMP/$name.log" | tail -1 | tr -d '=')"
        case "$rc" in
            0) verdict=passed ;;
            124|137) verdict="TIMED OUT"; NB_FAILED=1 ;;
            *) verdict="FAILED (exit $rc)"; NB_FAILED=1 ;;
        esac
        echo "$name: $verdict in ${seconds} s;${last:+ $last}"
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            echo "    last cell that passed: $(grep -oE '::Cell [0-9]+ PASSED' "$TMP/$name.log" |
                tail -1 | cut -d' ' -f2) of $(grep -c '"cell_type": "code"' "$nb") code cells"
        fi
        if [ "$rc" != 0 ]; then  # which cells, and the first line of each error
            grep -E '^(FAILED|ERROR) |^E  ' "$TMP/$name.log" | head -8 | sed 's/^/    /'
        fi
    done
} >"$TMP/nb_summary.txt"
if [ "$DRY" = 0 ]; then
    cat "$TMP/nb_summary.txt"
    for nb in $NOTEBOOKS; do
        name="$(basename "$nb" .ipynb)"
        [ -f "$TMP/$name.log" ] && { echo "===== $name"; cat "$TMP/$name.log"; }
    done >"$OUT/nbval.log"
fi

# ------------------------------------------------------------------ the benchmark
bench_budget=$(( $(left) - 20 ))
[ "$bench_budget" -le "$BENCH_MAX" ] || bench_budget=$BENCH_MAX
bench_args=(--json "$OUT/bench_gpu.json" --budget-s "$bench_budget")
[ "$MODE" = gpu ] || bench_args+=(--smoke)
BENCH_RC=0
bench_note() {  # a line instead of the benchmark's log
    echo "$1"
    [ "$DRY" = 1 ] || echo "$1" >"$OUT/bench_gpu.log"
}
if [ "$SKIP_BENCH" = 1 ]; then
    bench_note "# benchmark left out (--no-bench)"
elif [ "$bench_budget" -lt 60 ] && [ "$MODE" = gpu ]; then
    bench_note "gpu_check.sh: only $bench_budget s left, the benchmark is skipped"
    BENCH_RC=1
else
    echo "# benchmark, ${bench_budget} s"
    if [ "$MODE" = gpu ] && [ "$DRY" = 0 ]; then  # the GPU should be idle now
        nvidia-smi --query-gpu=memory.used,utilization.gpu,temperature.gpu,clocks.sm \
            --format=csv 2>&1 | sed 's/^/# /'
    fi
    if [ "$DRY" = 1 ]; then
        echo "+ timeout $((bench_budget + 45)) $PYTHON benchmarks/bench_gpu.py ${bench_args[*]}"
    else
        timeout --kill-after=10 $((bench_budget + 45)) "$PYTHON" benchmarks/bench_gpu.py \
            "${bench_args[@]}" 2>&1 | tee "$OUT/bench_gpu.log"
        BENCH_RC=${PIPESTATUS[0]}
    fi
fi

# ------------------------------------------------------------------ summary, printed last
if [ "$DRY" = 0 ]; then
    {
        echo
        echo "==================== gpu_check.sh summary ($(( $(now) - START )) s)"
        grep -E '^(device 0|torch|nvidia-smi)' "$OUT/versions.txt"
        cat "$TMP/nb_summary.txt"
        echo "## benchmark: exit $BENCH_RC (full numbers in bench_gpu.json and bench_gpu.log)"
        sed -n '/^## summary/,$p' "$OUT/bench_gpu.log" | tail -n +2
    } | tee "$OUT/summary.txt"
fi
rm -rf "$TMP"
[ "$DRY" = 1 ] && exit 0
[ "$NB_FAILED" = 0 ] && [ "$BENCH_RC" = 0 ]
