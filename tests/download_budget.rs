//! The memory budget and the throughput target: one memory budget per client bounds the parts in
//! flight of all its downloads together (a part waits for a slot rather than allocate), and a
//! throughput target replaces the thread count. The local server counts the requests it answers at once
//! (`take_peak_in_flight`); every answer waits 20 ms (shaping), so parts that were allowed to
//! overlap do.

mod download_support;

use std::time::Duration;

use download_support::*;
use oss_emulator::Shaping;
use oss_ffi::cancel::Cancel;
use oss_ffi::download::ramp::Target;
use oss_ffi::download::{resumable_download, DownloadRequest, MIN_PART_SIZE};
use oss_ffi::memory_budget::{
    MemoryBudget, BASE_COST, CONNECTION_COST, DEFAULT_MEMORY_BUDGET, MIN_MEMORY_BUDGET,
};
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

/// Parts of the tests below: larger than the 256 KiB buffers of 64 threads, so every slot is
/// two buffers and a connection.
const PART: u64 = MIB;

/// Slots of `budget` for parts with 256 KiB buffers (64 threads).
fn capacity(budget: u64) -> u64 {
    (budget - BASE_COST) / (2 * 256 * KIB + CONNECTION_COST)
}

fn shaped_env() -> Env {
    let env = Env::new();
    env.emu.set_shaping(Shaping::none().latency_ms(20)).unwrap();
    env
}

fn requests(env: &Env, n: usize, size: u64, threads: u32) -> Vec<DownloadRequest> {
    (0..n)
        .map(|i| {
            let key = format!("budget/{i}");
            env.object(&key, size);
            let mut r = env.request(&key, &format!("out-{i}"));
            r.part_size = PART;
            r.thread_num = threads;
            r
        })
        .collect()
}

async fn run_all(env: &Env, client: &oss_ffi::client::Client, reqs: &[DownloadRequest]) {
    let runs = reqs.iter().map(|r| async move {
        resumable_download(client, r, &Cancel::new())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", r.object.key))
    });
    futures_util::future::join_all(runs).await;
    for (i, r) in reqs.iter().enumerate() {
        assert_same_file(
            &env.root.path().join(BUCKET).join(&r.object.key),
            &env.path(&format!("out-{i}")),
        );
    }
    assert!(env.emu.wait_idle(Duration::from_secs(10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smallest_budget_runs_one_part_at_a_time_for_all_downloads() {
    assert_eq!(capacity(MIN_MEMORY_BUDGET), 1, "the arithmetic below");
    let env = shaped_env();
    let client = env.client_with(|c| {
        c.memory_budget = MIN_MEMORY_BUDGET;
        c.max_connections = 64;
    });
    // Four downloads asking for 64 parts in flight each, 11 parts each.
    let reqs = requests(&env, 4, 10 * PART + 5, 64);
    env.emu.take_peak_in_flight();
    run_all(&env, &client, &reqs).await;
    assert_eq!(
        env.emu.take_peak_in_flight(),
        1,
        "one slot: one request at a time, first GETs included"
    );
    assert_eq!(
        client.memory_budget().free_bytes(),
        MIN_MEMORY_BUDGET - BASE_COST,
        "every slot was given back"
    );

    // GetObject to a file holds a slot too.
    let gets = (1..4).map(|i| {
        let client = &client;
        let (key, path) = (reqs[i].object.key.clone(), env.path(&format!("get-{i}")));
        async move {
            let req = oss_ffi::object::ObjectRequest {
                bucket: BUCKET.into(),
                key,
                ..Default::default()
            };
            client
                .get_object_to_file(&req, None, &path, None, &Cancel::new())
                .await
                .unwrap();
        }
    });
    let (_, _) = tokio::join!(
        futures_util::future::join_all(gets),
        run_all(&env, &client, &reqs[..1])
    );
    for (i, r) in reqs.iter().enumerate().take(4).skip(1) {
        assert_same_file(
            &env.root.path().join(BUCKET).join(&r.object.key),
            &env.path(&format!("get-{i}")),
        );
    }
    assert_eq!(
        env.emu.take_peak_in_flight(),
        1,
        "GetObject to file waits too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_bounds_the_parts_of_a_download_and_a_larger_one_allows_more() {
    let budget = 32 * MIB;
    let slots = capacity(budget);
    assert!((2..64).contains(&slots));
    let env = shaped_env();
    let reqs = requests(&env, 2, 30 * PART, 64);

    let small = env.client_with(|c| {
        c.memory_budget = budget;
        c.max_connections = 128;
    });
    env.emu.take_peak_in_flight();
    run_all(&env, &small, &reqs).await;
    let peak = env.emu.take_peak_in_flight();
    assert!(
        peak <= slots,
        "{peak} requests at once, the budget holds {slots}"
    );
    assert!(peak >= 2, "the parts did overlap ({peak})");

    // The same downloads with the default budget: more at once, so the bound above was the
    // budget's, not the test's.
    let large = env.client_with(|c| c.max_connections = 128);
    assert_eq!(large.memory_budget().total(), DEFAULT_MEMORY_BUDGET);
    run_all(&env, &large, &reqs).await;
    let peak_large = env.emu.take_peak_in_flight();
    assert!(
        peak_large > slots,
        "{peak_large} at once with the default budget, {slots} with {budget}"
    );
    assert!(peak_large <= capacity(DEFAULT_MEMORY_BUDGET));
}

/// The write buffers alive never exceed what the slots held count: two per part in flight
/// (parts larger than a buffer). A download running its last parts gives back the slots of the
/// parts that finished, and another download takes them for buffers of its own at once: the
/// first one must free those parts' buffers then, not keep them idle. Downloads of 1 to 6
/// parts, so that many end while others wait for slots; no shaping, so that the parts in
/// flight stream (hold their buffers) most of their time; five rounds (before the buffers
/// were freed with their slots, 27-29 MiB in four runs of four).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_buffers_alive_never_exceed_what_the_held_slots_count() {
    // 4 threads: buffers of 1 MiB (8 MiB / 4, at most 1 MiB); parts of 8 MiB hold two each.
    let (buffer, part) = (MIB, 8 * MIB);
    let slots = (DEFAULT_MEMORY_BUDGET - BASE_COST) / (2 * buffer + CONNECTION_COST);
    assert_eq!(slots, 13, "the arithmetic below");
    let env = Env::new();
    let reqs: Vec<DownloadRequest> = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
        .iter()
        .enumerate()
        .map(|(i, parts)| {
            let key = format!("buffers/{i}");
            env.object(&key, parts * part - 4096);
            let mut r = env.request(&key, &format!("out-{i}"));
            r.part_size = part;
            r.thread_num = 4;
            r
        })
        .collect();
    let client = env.client_with(|c| c.max_connections = 128);
    for _ in 0..5 {
        run_all(&env, &client, &reqs).await;
    }
    let b = client.memory_budget();
    let peak = b.peak_buffer_bytes();
    assert!(
        peak >= 2 * buffer,
        "the parts wrote through buffers ({peak})"
    );
    assert!(
        peak <= 2 * buffer * slots,
        "{} MiB of write buffers alive at once, the {slots} slots count {} MiB",
        peak as f64 / MIB as f64,
        2 * slots
    );
    assert_eq!(b.buffer_bytes(), 0, "every buffer freed at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_waiting_for_room_can_be_cancelled() {
    let env = Env::new();
    // 200 KB/s per connection: the first download holds the only slot for ~5 s.
    env.emu
        .set_shaping(Shaping::none().conn_bytes_per_sec(200_000))
        .unwrap();
    let client = env.client_with(|c| c.memory_budget = MIN_MEMORY_BUDGET);
    let reqs = requests(&env, 2, PART, 64);
    let slow_cancel = CancellationToken::new();
    let slow = {
        let (client, req, token) = (client.clone(), reqs[0].clone(), slow_cancel.clone());
        tokio::spawn(
            async move { resumable_download(&client, &req, &Cancel::new().with(token)).await },
        )
    };
    // Wait until the first download holds the slot.
    while client.memory_budget().free_bytes() == MIN_MEMORY_BUDGET - BASE_COST {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let token = CancellationToken::new();
    let waiting = {
        let (client, req, token) = (client.clone(), reqs[1].clone(), token.clone());
        tokio::spawn(
            async move { resumable_download(&client, &req, &Cancel::new().with(token)).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    token.cancel();
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(
        gets(&env, "budget/1").is_empty(),
        "the waiting download sent nothing"
    );
    slow_cancel.cancel();
    let e = slow.await.unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert_no_leftovers(&[env.work.path()]);
    assert_eq!(
        client.memory_budget().free_bytes(),
        MIN_MEMORY_BUDGET - BASE_COST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throughput_target_replaces_the_thread_count() {
    let env = shaped_env();
    let client = env.client_with(|c| c.max_connections = 128);
    for target in [Target::Max, Target::Rate(1)] {
        let mut reqs = requests(&env, 1, 40 * MIN_PART_SIZE + 1, 1);
        reqs[0].part_size = MIN_PART_SIZE;
        reqs[0].throughput_target = Some(target);
        env.emu.take_peak_in_flight();
        run_all(&env, &client, &reqs).await;
        let peak = env.emu.take_peak_in_flight();
        // Target-mode buffers are 256 KiB, cut to the 100 KiB parts (rounded to 4 KiB blocks).
        let cost = MemoryBudget::slot_cost_for(
            MIN_PART_SIZE.div_ceil(4096) as usize * 4096,
            MIN_PART_SIZE,
        );
        let slots = MemoryBudget::new(DEFAULT_MEMORY_BUDGET).capacity(cost);
        assert!(peak as usize <= slots, "{peak} at once, {slots} slots");
        // "As fast as the link allows" starts wide whatever the thread count (1 here); a
        // target of 1 byte/s starts with one part (the rate an assumed connection gives),
        // met at once.
        if target == Target::Rate(1) {
            assert!(peak <= 2, "{target:?}: {peak}");
        } else {
            assert!(peak >= 2, "{target:?}: {peak} at once with thread_num 1");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_holds_a_small_slot() {
    let env = Env::new();
    // 32 KB/s: ~2 s for the object, so that the progress callback runs while it downloads.
    env.emu
        .set_shaping(Shaping::none().conn_bytes_per_sec(32_000))
        .unwrap();
    let client = env.client();
    let size = 64 * KIB;
    let mut reqs = requests(&env, 1, size, 4);
    // While the download runs (its progress callback), the budget holds one slot sized for
    // one 64 KiB buffer and a connection, not the 2 x 1 MiB the request's 4 threads would
    // reserve before the object's size was known.
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (budget, seen) = (client.memory_budget().clone(), held.clone());
    reqs[0].progress = Some(std::sync::Arc::new(move |_, _, _| {
        seen.lock().unwrap().push(budget.free_bytes());
    }));
    resumable_download(&client, &reqs[0], &Cancel::new())
        .await
        .unwrap();
    assert_same_file(
        &env.root.path().join(BUCKET).join(&reqs[0].object.key),
        &env.path("out-0"),
    );
    let pool = DEFAULT_MEMORY_BUDGET - BASE_COST;
    let mut held = held.lock().unwrap().clone();
    // The final call comes after the part's slot was cut to the connection's share the
    // download keeps until it ended (its admission), unless the last paced call already
    // reported every byte (then there is no final call): a loaded machine makes either happen.
    if held.last() == Some(&(pool - CONNECTION_COST)) {
        held.pop();
    }
    assert!(held.len() >= 2, "{held:?}");
    assert!(
        held.iter()
            .all(|free| pool - free == size + CONNECTION_COST),
        "reserved while running: {:?}, a small slot is {}",
        held.iter().map(|f| pool - f).collect::<Vec<_>>(),
        size + CONNECTION_COST
    );
    assert_eq!(client.memory_budget().free_bytes(), pool);
}

/// A throughput target makes its write buffers before it knows the object (256 KiB, so that the
/// budget holds the most parts); once the plan says how many parts it starts, they are as large
/// as the budget allows for all of them: 4 parts of 4 MiB take 1 MiB buffers (fewer writes and
/// wake-ups per GiB), and the budget still bounds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throughput_target_on_a_small_object_takes_the_largest_buffers_its_parts_fit() {
    let env = Env::new();
    let size = 16 * MIB;
    env.object("target/small", size);
    let client = env.client_with(|c| c.max_connections = 128);
    let mut req = env.request("target/small", "out-0");
    req.throughput_target = Some(Target::Max);
    run_all(&env, &client, std::slice::from_ref(&req)).await; // checks the file
    let b = client.memory_budget();
    // 256 KiB buffers: at most 4 parts x 2 x 256 KiB = 2 MiB alive; 1 MiB buffers: more.
    let peak = b.peak_buffer_bytes();
    assert!(
        peak > 2 * MIB,
        "{peak} bytes of buffers at most: 256 KiB ones"
    );
    let slots = (DEFAULT_MEMORY_BUDGET - BASE_COST) / (2 * MIB + CONNECTION_COST);
    assert!(peak <= 2 * MIB * slots, "{peak}");
    assert_eq!(b.buffer_bytes(), 0, "every buffer freed at the end");
}
