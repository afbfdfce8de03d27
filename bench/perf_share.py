#!/usr/bin/env python3
"""Where a download's CPU goes: the samples of `perf script` (read on stdin, recorded with call
chains: `perf record -g` or `--call-graph dwarf`) put in cost classes by their call chain, leaf
first, and printed as shares. BENCHMARKS.md, "Where the CPU goes", has the commands.

    perf script -i perf.data | python3 bench/perf_share.py [--hz 4000]

With --hz (the recording's -F), each class's seconds (samples / hz) are printed too. The classes
are matched on symbol names (kernel and user space); a sample matches the first class that fits.
"""
import argparse
import collections
import re
import sys

# (class, regex over the leaf symbol, regex over the whole chain); the first that matches wins
CLASSES = [
    ("crc64", r"crc64fast|crc_fast|clmul", None),
    ("TLS decryption (AES-GCM)", r"aes_gcm|gcm_ghash|ring_core|ring::aead", None),
    ("user copy: HTTP stack's buffer -> part's aligned buffer", r"memmove|memcpy",
     r"AlignedBuf::extend|PartWriter::push"),
    ("user copy: TLS plaintext -> HTTP stack's buffer", r"memmove|memcpy", r"tokio_rustls|ReadBuf::put_slice"),
    ("user copy: inside rustls (plaintext out of the record, deframer)", r"memmove|memcpy", r"rustls"),
    ("user copy: other", r"memmove|memcpy", None),
    ("recv: kernel copy to user space", None, r"(_copy_to_iter|skb_copy_datagram).*recv"),
    ("disk write (O_DIRECT pwrite, block layer)", None,
     r"pwrite|iomap|blk_|virtio_queue_rq|bio_|gup_fast|unpin_user"),
    ("recv: rest of the receive path (per call, per packet, the sender's work on loopback)", None,
     r"recvfrom|tcp_recvmsg|sock_recvmsg"),
    ("send (requests)", None, r"sendto|sendmsg|tcp_sendmsg|writev"),
    ("TCP in softirq (ACKs, receive)", None, r"tcp_v4_rcv|net_rx|softirq|ip_rcv|__dev_queue_xmit|tcp_ack"),
    ("wake-ups: futex, scheduling, epoll", None,
     r"futex|schedule|try_to_wake_up|finish_task_switch|epoll|wake_up|sched_|exit_to_user"),
    ("page faults, mm", None, r"page_fault|clear_page|mmap|munmap|madvise|free_frozen|alloc_pages"),
    ("malloc/free", r"malloc|free|_int_", None),
    ("rustls, other", None, r"rustls"),
    ("hyper, other", None, r"hyper"),
    ("tokio, other", None, r"tokio|mio"),
    ("kernel, other", r"\[kernel", None),
]


def classify(frames):
    leaf, chain = frames[0], " ".join(frames)
    for name, leaf_re, chain_re in CLASSES:
        if leaf_re and not re.search(leaf_re, leaf):
            continue
        if chain_re and not re.search(chain_re, chain):
            continue
        if leaf_re or chain_re:
            return name
    return "user space, other"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 allow_abbrev=False)
    ap.add_argument("--hz", type=float, help="the recording's sampling frequency (perf record -F)")
    args = ap.parse_args()
    counts, total, frames = collections.Counter(), 0, []

    def flush():
        nonlocal total, frames
        if frames:
            counts[classify(frames)] += 1
            total += 1
        frames = []

    for line in sys.stdin:
        if not line.strip():
            flush()
        elif line[0] in "\t ":
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                # "addr symbol+0xoff (dso)": the symbol and its object
                frames.append(re.sub(r"\+0x[0-9a-f]+", "", parts[1]))
    flush()
    if not total:
        sys.exit("no samples with call chains on stdin (perf script of a `perf record -g` file)")
    print(f"{total} samples" + (f" ({total / args.hz:.2f} s)" if args.hz else ""))
    for name, n in counts.most_common():
        secs = f"  {n / args.hz:6.3f} s" if args.hz else ""
        print(f"{100 * n / total:6.1f}%{secs}  {name}")


if __name__ == "__main__":
    main()
