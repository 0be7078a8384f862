"""CSV text into records numbered as an editor shows the lines, for figures and exclusions."""

import pytest

from orchestration.figures.csv_records import MalformedCsv, numbered_records


def test_records_are_numbered_by_the_line_they_start_on():
    text = 'a, b\n1,2\n\n"x\ny",3\n , \n4,5\n'
    header, records = numbered_records(text, "f.csv")
    assert header == ["a", "b"]
    assert records == [(2, ["1", "2"]), (4, ["x\ny", "3"]), (7, ["4", "5"])]


def test_empty_text_has_no_header_and_no_records():
    assert numbered_records("", "f.csv") == ([], [])


def test_malformed_csv_names_the_file_and_the_line():
    with pytest.raises(MalformedCsv, match=r"^f\.csv: malformed CSV at line \d+: "):
        numbered_records('a,b\n1,2\n"3,4\n', "f.csv")
