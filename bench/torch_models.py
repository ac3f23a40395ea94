"""PyTorch side of bench/pytorch-compare.ts: torchvision models with the Keras models' shapes, random weights.

Speaks JSON lines on stdin/stdout so the Node orchestrator can interleave its runs with ours:
  {"cmd": "load", "model": "resnet50", "batch": 1}  ->  {"ok": true, "params": 25557032}
  {"cmd": "run"}                                    ->  {"ms": 81.2, "cpuMs": 150.3}  (CPU time of every thread)
  {"cmd": "profile"}                                ->  {"ops": [{"name": "aten::mkldnn_convolution", "calls": 53, "ms": 60.1}, ...]}
Threads: PYTORCH_THREADS (default 2, the cores of the machine the issue measured on).
"""
import json
import os
import sys
import time

import torch
import torchvision.models as models

BUILDERS = {
    "resnet50": models.resnet50,
    "mobilenetv2": models.mobilenet_v2,
    "efficientnetb0": models.efficientnet_b0,
    "vgg16": models.vgg16,
}


def main() -> None:
    torch.set_num_threads(int(os.environ.get("PYTORCH_THREADS", "2")))
    torch.manual_seed(0)
    model = None
    x = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "load":
            model = BUILDERS[msg["model"]](weights=None).eval()
            x = torch.rand(msg["batch"], 3, 224, 224)
            reply = {"ok": True, "params": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads()}
        elif msg["cmd"] == "run":
            with torch.inference_mode():
                cpu = time.process_time()
                start = time.perf_counter()
                model(x)
                reply = {"ms": (time.perf_counter() - start) * 1000, "cpuMs": (time.process_time() - cpu) * 1000}
        elif msg["cmd"] == "profile":
            with torch.inference_mode(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                model(x)
            ops = [{"name": e.key, "calls": e.count, "ms": e.self_cpu_time_total / 1000} for e in prof.key_averages()]
            reply = {"ops": sorted(ops, key=lambda op: -op["ms"])}
        else:
            reply = {"error": f"unknown command {msg['cmd']}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
