"""The Python code generated from proto/ is checked in; it must match what proto/ generates now."""

from civitas_kernel import schema_codegen


def test_generated_code_is_up_to_date(tmp_path):
    generated = schema_codegen.generate(tmp_path)
    assert generated, "protoc generated nothing"
    stale = []
    for path in generated:
        checked_in = schema_codegen.OUTPUT_ROOT / path.relative_to(tmp_path)
        if not checked_in.exists() or checked_in.read_bytes() != path.read_bytes():
            stale.append(str(path.relative_to(tmp_path)))
    assert not stale, f"generated code is stale, run `make proto`: {stale}"


def test_every_message_type_is_registered():
    from civitas_kernel.events import message_class

    for name in ["VoteCast", "TrustExtended", "PrimaryTrustExtended", "DoubtRaised", "AttributeSet", "PollConfigured"]:
        assert message_class(f"civitas.v1.{name}").DESCRIPTOR.full_name == f"civitas.v1.{name}"
