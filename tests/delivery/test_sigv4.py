"""SigV4 against the published AWS example ("GET Bucket (List Objects)", 2013-05-24)."""

from __future__ import annotations

import datetime as dt

from yarl import URL

from hub.delivery.s3 import S3Target, sign


def test_signature_matches_the_aws_documentation_example() -> None:
    target = S3Target(
        "https://examplebucket.s3.amazonaws.com",
        "examplebucket",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    url = URL("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", encoded=True)
    headers = sign(
        target,
        "GET",
        url,
        path="/",
        query="max-keys=2&prefix=J",
        body=b"",
        now=dt.datetime(2013, 5, 24, tzinfo=dt.UTC),
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )
