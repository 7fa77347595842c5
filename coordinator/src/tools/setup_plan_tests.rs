use super::*;
use crate::graph_file::{parse, Format};
use msgflo_protocol::ids::QueueName;

fn graph(text: &str) -> Graph {
    parse(text, Format::Fbp, false).unwrap()
}

/// The registry of stand-ins msgflo-setup names the queues with when it
/// discovers nothing.
fn defaults(g: &Graph) -> Registry {
    registry(g, &Registry::default(), false).unwrap()
}

fn bind(outport: &str, inport: &str) -> Link {
    Link::Bind {
        outport: QueueName::new(outport).unwrap(),
        inport: QueueName::new(inport).unwrap(),
    }
}

#[test]
fn msgflo_simple_fixture_lists_like_msgflo() {
    // msgflo's spec/fixtures/simple.fbp
    let g = graph(
        "s_api(Repeat) OUT -> IN s_jobs(msgflo/RoundRobin) OUT -> IN s_worker(ErrorIf)\n\
         s_worker OUT -> IN s_api\n\
         s_jobs DEADLETTER -> DROP s_drop(Drop)\n",
    );
    let names = defaults(&g);
    assert_eq!(
        listing(&g, &names).unwrap(),
        "PUBSUB: \t s_worker.OUT -> s_api.IN\n\
         DEADLETTER:\t s_worker.IN -> s_drop.DROP\n\
         ROUNDROBIN:\t s_api.OUT -> s_worker.IN"
    );
    assert_eq!(
        links(&g, &names, Mode::Queues).unwrap(),
        BTreeSet::from([
            bind("s_worker.OUT", "s_api.IN"),
            bind("s_api.OUT", "s_worker.IN"),
            bind("dead-s_worker.IN", "s_drop.DROP"),
        ])
    );
}

#[test]
fn pubsub_nodes_fan_out_and_iips_make_no_binding() {
    let g = graph(
        "a(X) OUT -> IN hub(msgflo/PubSub) OUT -> IN b(Y)\n\
         c(X) OUT -> IN hub\nhub OUT -> IN d(Y)\n'1' -> IN a\n",
    );
    let names = defaults(&g);
    assert_eq!(
        listing(&g, &names).unwrap(),
        "PUBSUB: \t a.OUT -> b.IN\nPUBSUB: \t c.OUT -> b.IN\n\
         PUBSUB: \t a.OUT -> d.IN\nPUBSUB: \t c.OUT -> d.IN"
    );
    assert_eq!(links(&g, &names, Mode::Queues).unwrap().len(), 4);
}

#[test]
fn a_roundrobin_without_source_lists_only_its_deadletter() {
    let g = graph("rr(msgflo/RoundRobin) OUT -> IN w(X)\nrr DEADLETTER -> IN d(Y)\n");
    let names = defaults(&g);
    assert_eq!(listing(&g, &names).unwrap(), "DEADLETTER:\t w.IN -> d.IN");
    assert_eq!(links(&g, &names, Mode::Queues).unwrap().len(), 1);
}

#[test]
fn discovered_queues_name_the_links_and_a_missing_port_is_an_error() {
    let g = graph("a(X) OUT -> IN b(Y)\n");
    let mut discovered = Registry::default();
    let mut b = Participant::new(
        ParticipantId::new("b-1").unwrap(),
        Role::new("b").unwrap(),
        "Y",
    );
    b.inports = vec![Port::new(
        PortName::new("in").unwrap(),
        Some(QueueName::new("b/in").unwrap()),
    )];
    discovered.seen(b, Instant::now());
    // Announced queues win with --discover; a, not discovered, is a stand-in.
    let names = registry(&g, &discovered, true).unwrap();
    assert_eq!(listing(&g, &names).unwrap(), "PUBSUB: \t a.OUT -> b/in");
    assert_eq!(
        links(&g, &names, Mode::Queues).unwrap(),
        BTreeSet::from([bind("a.OUT", "b/in")])
    );
    // Without it, msgflo's default names.
    let names = registry(&g, &discovered, false).unwrap();
    assert_eq!(listing(&g, &names).unwrap(), "PUBSUB: \t a.OUT -> b.IN");
    // On MQTT, the discovered participant takes connectinport.
    let connect: Vec<Link> = links(&g, &names, Mode::Participants)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        connect,
        vec![Link::ConnectInport {
            participant: ParticipantId::new("b-1").unwrap(),
            outport: QueueName::new("a.OUT").unwrap(),
            port: "in".into(),
        }]
    );

    let g = graph("a(X) OUT -> OTHER b(Y)\n");
    let err = links(&g, &registry(&g, &discovered, true).unwrap(), Mode::Queues).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a() OUT -> OTHER b(): participant b-1 of role b has no inport \"other\""
    );
}

#[test]
fn node_lists_print_like_node() {
    assert_eq!(node_list(&[]), "[]");
    assert_eq!(node_list(&["a".into(), "b_c".into()]), "[ 'a', 'b_c' ]");
    assert_eq!(node_list(&["it's".into()]), "[ \"it's\" ]");
}
