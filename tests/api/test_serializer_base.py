"""mpaspor.api.Serializer copies plain declared fields shallowly: each serializer still gets its
own bound fields, and the declared ones are never bound."""

import threading

from rest_framework import serializers

from appointments.api import ApplicationCreateApi
from mpaspor.api import ErrorSerializer, Serializer

Input = ApplicationCreateApi.InputSerializer


def body(**overrides):
    values = {
        "slot": 1,
        "passport_type": "regular",
        "validity_years": 5,
        "application_kind": "new",
        "express": False,
        "applicant": {
            "nik": "3571015705900001",
            "full_name": "Budi",
            "birth_date": "1990-05-17",
            "sex": "F",
            "phone": "081234567890",
        },
    }
    values.update(overrides)
    return values


def test_each_serializer_gets_its_own_bound_fields_and_the_declared_stay_unbound():
    one, two = Input(data=body()), Input(data=body())
    for name in Input._declared_fields:
        assert one.fields[name] is not two.fields[name]
        assert one.fields[name].parent is one and two.fields[name].parent is two
        assert Input._declared_fields[name].field_name is None  # never bound
    assert one.fields["applicant"].fields["nik"].root is one
    assert two.fields["applicant"].fields["nik"].root is two


def test_fields_with_a_child_are_deep_copied_with_their_child_bound_to_them():
    one, two = ErrorSerializer(), ErrorSerializer()
    assert one.fields["errors"].child is not two.fields["errors"].child
    assert one.fields["errors"].child.parent is one.fields["errors"]


def test_validation_in_parallel_threads_keeps_each_answer_its_own():
    problems = []

    def validate(n):
        for i in range(200):
            good = (n + i) % 2 == 0
            data = body(slot=n * 1000 + i + 1) if good else body(validity_years=7, applicant={"sex": "X"})
            serializer = Input(data=data)
            valid = serializer.is_valid()
            if good and (not valid or serializer.validated_data["slot"] != n * 1000 + i + 1):
                problems.append((n, i, serializer.errors))
            if not good and (valid or set(serializer.errors) != {"validity_years", "applicant"}):
                problems.append((n, i, serializer.errors))

    threads = [threading.Thread(target=validate, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []


def test_method_fields_bind_their_own_method_name():
    class Output(Serializer):
        label = serializers.SerializerMethodField()

        def get_label(self, obj):
            return f"<{obj}>"

    assert Output("a").data == {"label": "<a>"} and Output("b").data == {"label": "<b>"}
    assert Output._declared_fields["label"].method_name is None
