use super::*;
use crate::bindings::default_queue;
use crate::graph_file::{parse, Format};

fn graph(text: &str) -> Graph {
    parse(text, Format::Fbp, false).unwrap()
}

#[test]
fn msgflo_simple_fixture_lists_like_msgflo() {
    // msgflo's spec/fixtures/simple.fbp
    let g = graph(
        "s_api(Repeat) OUT -> IN s_jobs(msgflo/RoundRobin) OUT -> IN s_worker(ErrorIf)\n\
         s_worker OUT -> IN s_api\n\
         s_jobs DEADLETTER -> DROP s_drop(Drop)\n",
    );
    let bindings = graph_bindings(&g, default_queue).unwrap();
    assert_eq!(
        pretty(&bindings),
        "PUBSUB: \t s_worker.OUT -> s_api.IN\n\
         DEADLETTER:\t s_worker.IN -> s_drop.DROP\n\
         ROUNDROBIN:\t s_api.OUT -> s_worker.IN"
    );
    let routes: Vec<(String, String)> = routes(&bindings)
        .into_iter()
        .map(|r| (r.from.to_string(), r.to.queue.to_string()))
        .collect();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        routes,
        vec![
            pair("s_worker.OUT", "s_api.IN"),
            pair("s_api.OUT", "s_worker.IN"),
            pair("dead-s_worker.IN", "s_drop.DROP"),
        ]
    );
}

#[test]
fn pubsub_nodes_fan_out_and_iips_make_no_binding() {
    let g = graph(
        "a(X) OUT -> IN hub(msgflo/PubSub) OUT -> IN b(Y)\n\
         c(X) OUT -> IN hub\nhub OUT -> IN d(Y)\n'1' -> IN a\n",
    );
    let bindings = graph_bindings(&g, default_queue).unwrap();
    assert_eq!(
        pretty(&bindings),
        "PUBSUB: \t a.OUT -> b.IN\nPUBSUB: \t c.OUT -> b.IN\n\
         PUBSUB: \t a.OUT -> d.IN\nPUBSUB: \t c.OUT -> d.IN"
    );
}

#[test]
fn a_roundrobin_without_source_lists_only_its_deadletter() {
    let g = graph("rr(msgflo/RoundRobin) OUT -> IN w(X)\nrr DEADLETTER -> IN d(Y)\n");
    let bindings = graph_bindings(&g, default_queue).unwrap();
    assert_eq!(pretty(&bindings), "DEADLETTER:\t w.IN -> d.IN");
    assert_eq!(routes(&bindings).len(), 1);
}

#[test]
fn queue_errors_are_reported() {
    let g = graph("a(X) OUT -> IN b(Y)\n");
    let err = graph_bindings(&g, |e, _| Err(format!("no {}", e.process))).unwrap_err();
    assert_eq!(err, "no a");
}

#[test]
fn node_lists_print_like_node() {
    assert_eq!(node_list(&[]), "[]");
    assert_eq!(node_list(&["a".into(), "b_c".into()]), "[ 'a', 'b_c' ]");
    assert_eq!(node_list(&["it's".into()]), "[ \"it's\" ]");
}
