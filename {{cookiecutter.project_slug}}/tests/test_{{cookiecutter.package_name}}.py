from {{ cookiecutter.package_name }} import greeting


def test_greeting_names_the_person() -> None:
    assert greeting("Ada") == "Hello, Ada!"
