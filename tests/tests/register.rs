//! `msgflo-register` announces YAML-described (foreign) participants on real
//! brokers: one discovery message per role with the role as id, `#ROLE`
//! replaced in queues, list and map ports; repeated while `--forever`; a
//! coordinator then lists the component; bad files are one-line errors.

use anyhow::{ensure, Context, Result};
use msgflo_participant::transport::Consumer;
use msgflo_tests::fbp_client::{self, Client};
use msgflo_tests::process::{run_to_end, spawn_ready};
use msgflo_tests::{amqp_url, bins, client, mqtt_url};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(20);

/// A switch with its outport given as a list, as msgflo's fixtures write it.
const SWITCH: &str = "component: 'my/ToggleSwitch'
icon: 'toggle-on'
label: 'A toggle switch which can turn things on or off'
inports: []
outports:
-
  id: 'state'
  type: 'boolean'
  description: 'on or off'
  queue: '/myswitch/#ROLE/status'
";

/// A bulb with its ports given as a map, and its own id.
const BULB: &str = "component: my/LightBulb
id: bulb-one
inports:
  enable:
    type: boolean
    queue: /bulbs/#ROLE/set-on
outports: {}
";

fn role(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

fn register(broker: &str, args: &[String]) -> Result<Command> {
    let mut command = Command::new(bins::binary("msgflo-register")?);
    command.arg("--broker").arg(broker).args(args);
    Ok(command)
}

/// The payload of the next discovery message for `role` (others are skipped).
async fn discovered(discovery: &mut Consumer, role: &str) -> Result<Value> {
    loop {
        let delivery = tokio::time::timeout(WAIT, discovery.next())
            .await
            .with_context(|| format!("no discovery message for {role} within {WAIT:?}"))?
            .context("discovery consumer ended")?;
        let message: Value = serde_json::from_slice(&delivery.payload).unwrap_or_default();
        delivery.ack().await?;
        if message["payload"]["role"] == role {
            ensure!(message["protocol"] == "discovery" && message["command"] == "participant");
            return Ok(message["payload"].clone());
        }
    }
}

fn keys(payload: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = payload
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn announces_once_on_mqtt_with_the_role_in_queues() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = write(dir.path(), "toggleswitch.yaml", SWITCH)?;
    let switch = role("switch");
    let watcher = client(&mqtt_url(), "register-test").await?;
    let mut discovery = watcher.watch_discovery().await?;
    let args = [
        "--role".to_owned(),
        format!("{switch}:{}", file.display()),
        "--forever=false".to_owned(),
    ];
    let (code, stdout, stderr) = run_to_end(register(&mqtt_url(), &args)?, WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(stdout, format!("Sent discovery message for {switch}\n"));

    let payload = discovered(&mut discovery, &switch).await?;
    assert_eq!(
        keys(&payload),
        [
            "component",
            "icon",
            "id",
            "inports",
            "label",
            "outports",
            "role"
        ]
    );
    assert_eq!(payload["id"], switch.as_str());
    assert_eq!(payload["component"], "my/ToggleSwitch");
    assert_eq!(payload["inports"], json!([]));
    assert_eq!(
        payload["outports"],
        json!([{"id": "state", "type": "boolean", "description": "on or off",
                "queue": format!("/myswitch/{switch}/status")}])
    );
    Ok(())
}

#[tokio::test]
async fn repeats_on_amqp_for_each_role_until_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let switch_file = write(dir.path(), "switch.yaml", SWITCH)?;
    let bulb_file = write(dir.path(), "bulb.yaml", BULB)?;
    let (switch, bulb) = (role("switch"), role("bulb"));
    let watcher = client(&amqp_url(), "register-test").await?;
    let mut discovery = watcher.watch_discovery().await?;
    let args = [
        "--role".to_owned(),
        format!("{switch}:{}", switch_file.display()),
        format!("--role={bulb}:{}", bulb_file.display()),
        "--interval".to_owned(),
        "0.5".to_owned(),
    ];
    let (mut process, first) = spawn_ready(register(&amqp_url(), &args)?, WAIT).await?;
    assert_eq!(first, format!("Sent discovery message for {switch}"));
    let second = process.stdout.next_line().await?;
    assert_eq!(
        second,
        Some("Sent discovery message for bulb-one".to_owned())
    );

    let payload = discovered(&mut discovery, &bulb).await?;
    assert_eq!(payload["id"], "bulb-one");
    assert_eq!(
        payload["inports"],
        json!([{"id": "enable", "type": "boolean", "queue": format!("/bulbs/{bulb}/set-on")}])
    );
    // --forever is the default: the messages come again (every 0.5 / 2.2 s).
    for _ in 0..2 {
        discovered(&mut discovery, &switch).await?;
    }
    discovered(&mut discovery, &bulb).await?;
    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn a_coordinator_lists_the_registered_component() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let component = format!("my/Switch{}", uuid::Uuid::new_v4().simple());
    let yaml = SWITCH.replace("my/ToggleSwitch", &component);
    let file = write(dir.path(), "switch.yaml", &yaml)?;
    let coordinator = fbp_client::start(&mqtt_url(), &[]).await?;
    let mut ui = Client::connect(coordinator.port).await?;
    let args = [
        "--role".to_owned(),
        format!("{}:{}", role("switch"), file.display()),
        "--forever".to_owned(),
        "false".to_owned(),
    ];
    let (code, _, stderr) = run_to_end(register(&mqtt_url(), &args)?, WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    loop {
        let message = ui.until("component", "component", WAIT).await?;
        if message["payload"]["name"] == component.as_str() {
            assert_eq!(message["payload"]["outPorts"][0]["id"], "state");
            break;
        }
    }
    ui.send("component", "list", json!({}), None).await?;
    let mut listed = false;
    loop {
        let message = ui.next(WAIT).await?;
        match message["command"].as_str() {
            Some("componentsready") => break,
            Some("component") => listed |= message["payload"]["name"] == component.as_str(),
            _ => {}
        }
    }
    ensure!(listed, "component:list names {component}");
    Ok(())
}

#[tokio::test]
async fn bad_files_are_one_line_naming_the_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("missing.yaml");
    let broken = write(dir.path(), "broken.yaml", "component: [\n")?;
    let nameless = write(dir.path(), "nameless.yaml", "icon: x\ninports: []\n")?;
    for (file, problem) in [
        (&missing, "cannot read"),
        (&broken, "not valid YAML"),
        (&nameless, "`component` is not defined"),
    ] {
        let args = ["--role".to_owned(), format!("r:{}", file.display())];
        let (code, stdout, stderr) = run_to_end(register(&mqtt_url(), &args)?, WAIT).await?;
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.starts_with("msgflo-register: "), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains(problem), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    Ok(())
}
