"""Time the full conformance run against its floor, on this machine's two cores.

* full: ``python -m mapping.conformance`` (what ``scripts/conformance.sh`` runs: every case, the results
  JSON and the HTML report), wall clock, with the trace on;
* floor: the frameworks' cold imports plus building and running exactly the LSTMs that run built
  (replayed from the trace with bare framework calls, random weights, no harness, no reference), in two
  processes (TensorFlow's Keras flavours in one, PyTorch and MindSpore in the other), wall clock.

Prints both and their ratio. Run: ``.venv/bin/python benchmarks/bench_conformance.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"tensorflow": ["tfkeras", "keras2"], "torch+mindspore": ["torch", "mindspore"]}


def run_full(trace_dir: Path) -> float:
    env = dict(os.environ, MAPPING_TRACE=str(trace_dir), TF_CPP_MIN_LOG_LEVEL="2", GLOG_v="3")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mapping.conformance", "--results-dir", str(trace_dir / "results"),
                    "--output", str(trace_dir / "report.html")],
                   cwd=ROOT, env=env, check=False, capture_output=True)
    return time.perf_counter() - start


def load_events(trace_dir: Path) -> dict[str, list[dict]]:
    """Events per framework; Keras calls are attributed through the layer they call."""
    per_framework: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(trace_dir.glob("trace-*.jsonl")):
        owner: dict[int, str] = {}
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["event"] in ("build", "keras_layer"):
                owner[event["model"]] = event["framework"]
            framework = owner.get(event["model"], event["framework"])
            per_framework[framework].append(event)
    return per_framework


# --- replay with bare framework code (runs in a child process) -------------------------------------------


def replay(frameworks: list[str], events: dict[str, list[dict]]) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    if "torch" in frameworks:
        import torch

        models = {}
        for e in events.get("torch", []):
            s = e["spec"]
            if e["event"] == "build":
                m = torch.nn.LSTM(s["input_size"], s["hidden_size"], s["num_layers"], bias=s["bias"],
                                  batch_first=s["batch_first"], bidirectional=s["bidirectional"],
                                  proj_size=s["proj_size"], dtype=getattr(torch, s["dtype"]))
                with torch.no_grad():
                    for p in m.parameters():
                        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
                models[e["model"]] = m
            else:
                m = models[e["model"]]
                m.train(e["training"])
                x = torch.from_numpy(rng.standard_normal(e["x"])).to(getattr(torch, s["dtype"]))
                with torch.no_grad():
                    if e["lengths"]:
                        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(e["lengths"]),
                                                                         batch_first=s["batch_first"],
                                                                         enforce_sorted=False)
                        out, _ = m(packed)
                        torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=s["batch_first"])
                    else:
                        m(x)
    if "mindspore" in frameworks:
        import mindspore
        from mindspore import Tensor, nn

        mindspore.set_context(mode=mindspore.PYNATIVE_MODE)
        models = {}
        for e in events.get("mindspore", []):
            s = e["spec"]
            if e["event"] == "build":
                m = nn.LSTM(s["input_size"], s["hidden_size"], s["num_layers"], has_bias=s["bias"],
                            batch_first=s["batch_first"], bidirectional=s["bidirectional"])
                for p in m.get_parameters():
                    p.set_data(Tensor(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
                models[e["model"]] = m
            else:
                m = models[e["model"]]
                m.set_train(e["training"])
                seq = None if not e["lengths"] else Tensor(np.array(e["lengths"], np.int32))
                m(Tensor(rng.standard_normal(e["x"]).astype(np.float32)), None, seq)
    for name in ("tfkeras", "keras2"):
        if name not in frameworks:
            continue
        import tensorflow as tf
        import torch  # noqa: F401  (the import order the suite uses)

        keras = tf.keras if name == "tfkeras" else __import__("tf_keras")
        stacks: dict[int, list] = {}
        for e in events.get(name, []):
            s = e.get("spec")
            if e["event"] == "build":
                layers = []
                for layer in range(s["num_layers"]):
                    lstm = keras.layers.LSTM(s["hidden_size"], use_bias=s["bias"], return_sequences=True,
                                             return_state=True, dtype=s["dtype"])
                    if s["bidirectional"]:
                        lstm = keras.layers.Bidirectional(lstm, dtype=s["dtype"])
                    width = s["input_size"] if layer == 0 else s["hidden_size"] * (2 if s["bidirectional"] else 1)
                    lstm.build((None, None, width))
                    lstm.set_weights([rng.uniform(-0.3, 0.3, w.shape) for w in lstm.get_weights()])
                    layers.append(lstm)
                stacks[e["model"]] = layers
            elif e["event"] == "run":
                shape = e["x"] if s["batch_first"] else [e["x"][1], e["x"][0], e["x"][2]]
                h = tf.constant(rng.standard_normal(shape).astype(s["dtype"]))
                mask = None if not e["lengths"] else tf.sequence_mask(e["lengths"], shape[1])
                for lstm in stacks[e["model"]]:
                    h = lstm(h, mask=mask, training=e["training"])[0]
            elif e["event"] == "keras_layer":
                lstm = keras.layers.LSTM(s["hidden_size"], use_bias=s["bias"], dtype=s["dtype"], **e["options"])
                lstm.build((e["batch"], None, s["input_size"]))
                lstm.set_weights([rng.uniform(-0.3, 0.3, w.shape) for w in lstm.get_weights()])
                stacks[e["model"]] = [lstm]
            else:  # keras_call
                lstm = stacks[e["model"]][0]
                x = tf.constant(rng.standard_normal(e["x"]).astype(lstm.dtype))
                kwargs = {}
                if "initial_state" in e["kwargs"]:
                    kwargs["initial_state"] = [tf.zeros((e["x"][0], lstm.units), lstm.dtype)] * 2
                if "training" in e["kwargs"]:
                    kwargs["training"] = True
                lstm(x, **kwargs)


def run_floor(trace_dir: Path) -> tuple[float, dict[str, float]]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", GLOG_v="3")
    env.pop("MAPPING_TRACE", None)
    start = time.perf_counter()
    procs = {group: subprocess.Popen([sys.executable, __file__, "--replay", ",".join(fws), str(trace_dir)],
                                     env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
             for group, fws in GROUPS.items()}
    each = {}
    for group, proc in procs.items():
        proc.wait()
        each[group] = float(proc.stdout.read().decode().strip().splitlines()[-1])
    return time.perf_counter() - start, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--replay", help=argparse.SUPPRESS)
    parser.add_argument("trace", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay:
        start = time.perf_counter()
        replay(args.replay.split(","), load_events(Path(args.trace)))
        print(f"{time.perf_counter() - start:.3f}")
        return
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            full = run_full(Path(tmp))
            events = load_events(Path(tmp))
            floor, each = run_floor(Path(tmp))
        counts = ", ".join(f"{k} {len(v)}" for k, v in sorted(events.items()))
        print(f"events replayed: {counts}")
        print(f"full conformance run (python -m mapping.conformance, report included): {full:6.1f} s")
        print(f"floor (imports + the same LSTMs, 2 procs): {floor:6.1f} s  "
              f"({', '.join(f'{g} {t:.1f} s' for g, t in each.items())})")
        print(f"ratio full / floor: {full / floor:.2f}")


if __name__ == "__main__":
    main()
