import os, sys, time, resource, oss_ffi
mode = sys.argv[1]; proto = sys.argv[2] if len(sys.argv) > 2 else "http"
if mode == "direct":
    import oss_ffi._reader as r
    r._run_blocking = lambda call, ctx, ev: call()
c = oss_ffi.Client(f"{proto}://127.0.0.1:{18903 if proto == 'http' else 18904}", credentials=("ak", "sk"), region="cn-hangzhou")
buf = bytearray(1 << 20)
t0 = time.monotonic(); r0 = resource.getrusage(resource.RUSAGE_SELF)
n = 0
with c.open("bench", "object-1G.bin") as f:
    while True:
        k = f.readinto1(buf)
        if not k: break
        n += k
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(mode, n, f"{time.monotonic()-t0:.3f} s", f"cpu {r1.ru_utime-r0.ru_utime + r1.ru_stime-r0.ru_stime:.2f}")
