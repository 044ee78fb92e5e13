"""Device-to-device copy bandwidth (bytes read + written per second) of GPU 0, as JSON."""

import json

import torch

size = 4 << 30
src = torch.empty(size, dtype=torch.uint8, device="cuda")
dst = torch.empty_like(src)
for _ in range(3):
    dst.copy_(src)
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
runs = 20
start.record()
for _ in range(runs):
    dst.copy_(src)
end.record()
torch.cuda.synchronize()
seconds = start.elapsed_time(end) / 1000 / runs
print(json.dumps({"device": torch.cuda.get_device_name(0), "copy_bytes_per_s": 2 * size / seconds}))
