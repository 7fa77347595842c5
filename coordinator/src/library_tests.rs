use super::*;
use serde_json::json;

/// Writes `text` to `name` in a fresh temp dir; returns both.
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write fixture");
    (dir, path)
}

fn lib(config: Value) -> Library {
    Library::from_json(&config).expect("valid config")
}

fn no_iips() -> Map<String, Value> {
    Map::new()
}

/// What `sh` makes of a command line: runs `printf '%s\n' <args>` with the command's
/// words after its first, and returns them.
fn sh_words(command: &str) -> Vec<String> {
    let (_, args) = command.split_once(' ').expect("command has arguments");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\n' {args}"))
        .output()
        .expect("run sh");
    assert!(out.status.success(), "sh failed on {command}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn package_json_form_reads_the_msgflo_key_and_takes_namespace_from_name() {
    let (_d, path) = file(
        "package.json",
        r#"{"name": "myproj", "version": "1.0.0",
            "msgflo": {"components": {"api/Web": "node web.js --name #ROLE"}}}"#,
    );
    let lib = Library::load(&path).expect("load");
    assert_eq!(lib.namespace(), Some("myproj"));
    assert_eq!(lib.names(), vec!["api/Web"]);
    assert_eq!(
        lib.command("api/Web", "web", &no_iips()).as_deref(),
        Some("node web.js --name web")
    );
}

#[test]
fn standalone_form_is_the_config_itself() {
    let (_d, path) = file(
        "msgflo.json",
        r#"{"namespace": "ns", "components": {"imgflo-server/ProcessImage": "node worker.js --name #ROLE"}}"#,
    );
    let lib = Library::load(&path).expect("load");
    assert_eq!(lib.namespace(), Some("ns"));
    assert_eq!(lib.names(), vec!["imgflo-server/ProcessImage"]);
}

#[test]
fn explicit_namespace_beats_package_name() {
    let lib = lib(json!({"name": "pkg", "msgflo": {"namespace": "explicit"}}));
    assert_eq!(lib.namespace(), Some("explicit"));
    assert_eq!(super::Library::empty().namespace(), None);
}

#[test]
fn variables_expand_as_in_msgflos_nontrivial_fixture() {
    let lib = lib(json!({"msgflo": {
        "variables": {
            "PREFETCH": "--prefetch=1",
            "NOFLO": "noflo-runtime-msgflo --name #ROLE --graph #COMPONENT",
            "DEAD": "--deadletter in"
        },
        "components": {
            "api/ConvertDocument": "#NOFLO #PREFETCH --deadletter=in",
            "api/Router": "#NOFLO #PREFETCH #DEAD"
        }
    }}));
    assert_eq!(
        lib.command("api/Router", "router", &no_iips()).as_deref(),
        Some("noflo-runtime-msgflo --name router --graph api/Router --prefetch=1 --deadletter in")
    );
    assert_eq!(
        lib.command("api/ConvertDocument", "conv", &no_iips()).as_deref(),
        Some("noflo-runtime-msgflo --name conv --graph api/ConvertDocument --prefetch=1 --deadletter=in")
    );
}

#[test]
fn role_componentname_and_iips_match_msgflos_spec() {
    let lib = lib(json!({"components": {
        "project/Foo": "msgflo-nodejs --name #ROLE --file api/#COMPONENTNAME.js --option 1 --iips #IIPS"
    }}));
    let iips = json!({"portA": "valueA", "portB": 2.5});
    let iips = iips.as_object().expect("object");
    assert_eq!(
        lib.command("project/Foo", "myrole", iips).as_deref(),
        Some(
            r#"msgflo-nodejs --name myrole --file api/Foo.js --option 1 --iips '{"portA":"valueA","portB":2.5}'"#
        )
    );
    assert_eq!(
        lib.command("project/Foo", "r", &no_iips()).as_deref(),
        Some("msgflo-nodejs --name r --file api/Foo.js --option 1 --iips '{}'")
    );
}

#[test]
fn hostile_role_and_iips_survive_sh() {
    let lib = lib(json!({"components": {"C": "x #ROLE #IIPS"}}));
    let role = r#"a b'c"d$HOME`id`\"#;
    let iips = json!({"IN": "it's \"$(rm -rf /)\" `x` \\ $PATH"});
    let iips = iips.as_object().expect("object");
    let command = lib.command("C", role, iips).expect("command");
    assert_eq!(sh_words(&command), vec![role.to_owned(), iips_json(iips)]);
}

fn iips_json(iips: &Map<String, Value>) -> String {
    Value::Object(iips.clone()).to_string()
}

#[test]
fn markers_inside_quotes_in_the_template_are_escaped_for_that_quoting() {
    let lib = lib(json!({"components": {"C": "x \"--name=#ROLE\" '#IIPS' pre#ROLE"}}));
    let role = r#"r "q" $x `y` \ 'z'"#;
    let iips = json!({"a": "it's"});
    let iips = iips.as_object().expect("object");
    let command = lib.command("C", role, iips).expect("command");
    assert_eq!(
        sh_words(&command),
        vec![
            format!("--name={role}"),
            iips_json(iips),
            format!("pre{role}")
        ]
    );
}

#[test]
fn longest_marker_wins_and_unknown_markers_stay() {
    let lib = lib(json!({"variables": {"COMP": "nope", "x": "--lower"},
                         "components": {"a/B": "#COMPONENTNAME #COMPONENT #X #UNKNOWN #FILENAME \\#ROLE"}}));
    assert_eq!(
        lib.command("a/B", "r", &no_iips()).as_deref(),
        Some("B a/B --lower #UNKNOWN #FILENAME \\#ROLE")
    );
}

#[test]
fn variables_may_use_variables_but_not_in_a_cycle() {
    let lib =
        lib(json!({"variables": {"A": "#B --a", "B": "run #ROLE"}, "components": {"C": "#A"}}));
    assert_eq!(
        lib.command("C", "r", &no_iips()).as_deref(),
        Some("run r --a")
    );
    let err = Library::from_json(&json!({"variables": {"A": "#B", "B": "#A"}})).unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn a_variable_named_like_a_builtin_is_ignored() {
    let lib = lib(json!({"variables": {"role": "hijacked"}, "components": {"C": "x #ROLE"}}));
    assert_eq!(lib.command("C", "r", &no_iips()).as_deref(), Some("x r"));
}

#[test]
fn component_dir_uses_default_and_configured_handlers_with_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["Repeat.py", "Foo.coffee", "G.fbp", "Readme.md", "Thing.sh"] {
        std::fs::write(dir.path().join(f), "").expect("write");
    }
    std::fs::create_dir(dir.path().join("sub.py")).expect("mkdir");
    let mut lib =
        lib(json!({"msgflo": {"namespace": "proj", "handlers": {".sh": "sh #FILENAME #ROLE"}}}));
    lib.add_component_dir(dir.path()).expect("componentdir");
    assert_eq!(
        lib.names(),
        vec!["proj/Foo", "proj/G", "proj/Repeat", "proj/Thing"]
    );

    let repeat = lib.find("Repeat").expect("found by namespace");
    assert_eq!(repeat.language(), Some("python"));
    assert_eq!(repeat.file(), Some(dir.path().join("Repeat.py").as_path()));
    let file = |f: &str| dir.path().join(f).display().to_string();
    assert_eq!(
        lib.command("proj/Repeat", "rep", &no_iips()),
        Some(format!("msgflo-python {} rep", file("Repeat.py")))
    );
    assert_eq!(
        lib.command("Foo", "foo", &no_iips()),
        Some(format!("msgflo-nodejs --name foo {}", file("Foo.coffee")))
    );
    // msgflo: #COMPONENT of a file is its stem, without the namespace.
    assert_eq!(
        lib.command("G", "g", &no_iips()).as_deref(),
        Some("noflo-runtime-msgflo --name g --graph G --iips '{}'")
    );
    assert_eq!(
        lib.command("Thing", "t", &no_iips()),
        Some(format!("sh {} t", file("Thing.sh")))
    );
}

#[test]
fn configured_handler_overrides_default_and_missing_dir_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("P.py"), "").expect("write");
    let mut lib = lib(json!({"handlers": {".py": "python3 #FILENAME --role #ROLE"}}));
    lib.add_component_dir(dir.path()).expect("componentdir");
    let cmd = lib.command("P", "p", &no_iips()).expect("command");
    assert!(
        cmd.starts_with("python3 ") && cmd.ends_with(" --role p"),
        "{cmd}"
    );
    lib.add_component_dir(&dir.path().join("nope"))
        .expect("missing dir is fine");
    assert_eq!(lib.names(), vec!["P"]);
}

#[test]
fn config_component_wins_over_a_file_of_the_same_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("W.py"), "").expect("write");
    let mut lib = lib(json!({"namespace": "n", "components": {"n/W": "explicit #ROLE"}}));
    lib.add_component_dir(dir.path()).expect("componentdir");
    assert_eq!(
        lib.command("W", "w", &no_iips()).as_deref(),
        Some("explicit w")
    );
}

#[test]
fn lookup_order_is_exact_then_basename_then_namespace() {
    let lib = lib(json!({"namespace": "ns", "components": {
        "a/X": "exact", "X": "base", "ns/Y": "namespaced", "Y": "plain-y", "ns/Z": "z"
    }}));
    let template = |c: &str| lib.find(c).map(|e| e.template().to_owned());
    assert_eq!(template("a/X").as_deref(), Some("exact"));
    assert_eq!(template("b/X").as_deref(), Some("base"));
    assert_eq!(template("Y").as_deref(), Some("plain-y"));
    assert_eq!(template("Z").as_deref(), Some("z"));
    assert_eq!(template("other/Z"), None);
    assert_eq!(template("Missing"), None);
    assert_eq!(lib.command("Missing", "r", &no_iips()), None);
}

#[test]
fn malformed_configs_are_one_line_errors_naming_file_and_key() {
    let cases = [
        ("not json", "is not valid JSON"),
        ("[1]", "top level must be an object"),
        (r#"{"msgflo": "x"}"#, "`msgflo` must be an object"),
        (r#"{"components": []}"#, "`components` must be an object"),
        (
            r#"{"components": {"A": 1}}"#,
            "`components.A` must be a string",
        ),
        (
            r#"{"handlers": {"py": "x"}}"#,
            "`handlers.py`: an extension must start with '.'",
        ),
        (
            r#"{"variables": {"V": {}}}"#,
            "`variables.V` must be a string",
        ),
        (r#"{"variables": {"v": "1", "V": "2"}}"#, "defined twice"),
        (r#"{"namespace": 3}"#, "`namespace` must be a string"),
    ];
    for (text, expected) in cases {
        let (_d, path) = file("lib.json", text);
        let err = Library::load(&path).expect_err(text).to_string();
        assert!(err.contains(expected), "{text}: {err}");
        assert!(err.contains("lib.json"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

#[test]
fn a_config_error_reads_exactly_as_before() {
    let refusal = |doc: Value| {
        Library::from_json(&doc)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        refusal(json!({"variables": {"A": "#B", "B": "#C", "C": "#A"}})),
        Err("`variables` refer to each other in a cycle: A -> B -> C -> A".into())
    );
    assert_eq!(
        refusal(json!({"variables": {"v": "1", "V": "2"}})),
        Err("`variables.V` is defined twice (names are upper-cased)".into())
    );
    assert_eq!(
        refusal(json!({"variables": {"": "1"}})),
        Err("`variables` has an empty name".into())
    );
    assert_eq!(
        refusal(json!([1])),
        Err("the top level must be an object".into())
    );
}

#[test]
fn a_missing_file_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Library::load(&dir.path().join("package.json")).expect_err("missing");
    assert!(err.is_not_found());
    assert!(err.to_string().contains("package.json"));
}

#[test]
fn msgflo_null_and_scalar_variables_are_accepted() {
    let lib = lib(json!({"msgflo": null, "variables": {"N": 10, "B": true},
                         "components": {"C": "x --n #N --b #B"}}));
    assert_eq!(
        lib.command("C", "r", &no_iips()).as_deref(),
        Some("x --n 10 --b true")
    );
}
