//! Edge tests: order, batches, back-pressure, wake-up, close.

use super::*;
use bytes::Bytes;
use std::time::Duration;

fn n(i: u32) -> Packet {
    Packet::data(Bytes::from(i.to_string()))
}

fn num(p: &Packet) -> u32 {
    let text = std::str::from_utf8(p.payload().expect("data")).expect("utf-8");
    text.parse().expect("number")
}

#[test]
fn packets_come_out_in_order_single_and_batched() {
    let (mut tx, mut rx) = channel(8);
    let mut batch: VecDeque<Packet> = (0..5).map(n).collect();
    assert_eq!(tx.push_batch(&mut batch), 5);
    tx.try_push(n(5)).expect("space");
    let mut out = Vec::new();
    assert_eq!(rx.pop_batch(4, &mut out), 4);
    out.extend(rx.try_pop());
    out.extend(rx.try_pop());
    assert_eq!(out.iter().map(num).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    assert!(rx.try_pop().is_none());
}

#[test]
fn a_full_ring_refuses_without_dropping_or_growing() {
    let (mut tx, mut rx) = channel(2);
    tx.try_push(n(0)).expect("space");
    tx.try_push(n(1)).expect("space");
    let refused = tx.try_push(n(2)).expect_err("full");
    assert_eq!(num(&refused), 2, "the packet is given back");
    let mut batch: VecDeque<Packet> = (3..6).map(n).collect();
    assert_eq!(tx.push_batch(&mut batch), 0);
    assert_eq!(batch.len(), 3, "a batch keeps what did not fit");
    assert_eq!(tx.free(), 0);
    assert_eq!(rx.try_pop().map(|p| num(&p)), Some(0));
    assert_eq!(tx.push_batch(&mut batch), 1);
    assert_eq!(rx.len(), 2);
}

#[tokio::test]
async fn a_waiting_consumer_is_woken_by_data_and_by_close() {
    let (mut tx, mut rx) = channel(4);
    let consumer = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(p) = rx.recv().await {
            got.push(num(&p));
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    tx.push(n(1)).await.expect("consumer alive");
    tokio::time::sleep(Duration::from_millis(20)).await;
    tx.push(n(2)).await.expect("consumer alive");
    drop(tx);
    let got = tokio::time::timeout(Duration::from_secs(5), consumer)
        .await
        .expect("woken")
        .expect("no panic");
    assert_eq!(got, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_pressure_makes_the_producer_wait_and_nothing_is_lost() {
    let (mut tx, mut rx) = channel(16);
    const N: u32 = 100_000;
    let producer = tokio::spawn(async move {
        let mut batch = VecDeque::new();
        for i in 0..N {
            batch.push_back(n(i));
            if batch.len() == 64 {
                tx.push_all(&mut batch).await;
            }
        }
        tx.push_all(&mut batch).await;
    });
    let mut expected = 0;
    let mut out = Vec::new();
    while rx.recv_batch(32, &mut out).await > 0 {
        for p in out.drain(..) {
            assert_eq!(num(&p), expected, "in order");
            expected += 1;
        }
    }
    assert_eq!(expected, N);
    producer.await.expect("no panic");
}

#[tokio::test]
async fn a_push_to_a_closed_edge_gives_the_packet_back() {
    let (mut tx, rx) = channel(1);
    tx.try_push(n(0)).expect("space");
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.push(n(1)).await.expect_err("closed");
    assert_eq!(num(&back), 1);
}

/// Regression: dropping one end used to notify the other before the ring half
/// was gone, so a peer woken in that window parked again and hung forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_end_always_wakes_its_parked_peer() {
    for round in 0..2_000u32 {
        let (mut tx, mut rx) = channel(1);
        let consumer = tokio::spawn(async move {
            let mut got = 0;
            while rx.recv().await.is_some() {
                got += 1;
            }
            got
        });
        let closer = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.try_push(n(round)).expect("space");
        });
        closer.await.expect("no panic");
        let got = tokio::time::timeout(Duration::from_secs(5), consumer)
            .await
            .unwrap_or_else(|_| panic!("consumer hung in round {round}"))
            .expect("no panic");
        assert_eq!(got, 1, "round {round}");

        let (mut tx, rx) = channel(1);
        tx.try_push(n(0)).expect("space");
        let producer = tokio::spawn(async move { tx.push(n(1)).await.is_err() });
        tokio::task::yield_now().await;
        drop(rx);
        let refused = tokio::time::timeout(Duration::from_secs(5), producer)
            .await
            .unwrap_or_else(|_| panic!("producer hung in round {round}"))
            .expect("no panic");
        assert!(refused, "a gone consumer refuses the push (round {round})");
    }
}
