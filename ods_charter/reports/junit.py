"""JUnit XML, built with ``xml.etree``: one test suite per group (language,
portal, registry), one test case per cookie looked at."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ods_charter.reports import renderer
from ods_charter.reports.model import Report

# Characters XML 1.0 cannot hold at all, not even escaped (control characters,
# lone surrogates, U+FFFE/U+FFFF): a page's text may carry them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@renderer("junit")
def to_junit(report: Report, color: bool) -> str:
    root = ET.Element("testsuites", name=_clean(f"ods-charter {report.title}"))
    groups = list(dict.fromkeys([*report.checked, *(i.group for i in report.items)]))
    total = failed = errored = 0
    for group in groups:
        items = [i for i in report.items if i.group == group]
        subjects = list(
            dict.fromkeys([*(i.subject for i in items), *report.checked.get(group, [])])
        )
        suite = ET.SubElement(root, "testsuite", name=_clean(f"{report.title} {group}"))
        suite_failed = suite_errored = 0
        for subject in subjects:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(f"{report.title}.{group}"),
                name=_clean(subject or "(all)"),
            )
            mine = [i for i in items if i.subject == subject]
            problems = [i for i in mine if i.severity != "info" and i.kind != "error"]
            errors = [i for i in mine if i.kind == "error"]
            if errors:
                suite_errored += 1
                text = "; ".join(i.message for i in errors)
                ET.SubElement(case, "error", message=_clean(text)).text = _clean(text)
            elif problems:
                suite_failed += 1
                text = "; ".join(i.message for i in problems)
                ET.SubElement(case, "failure", message=_clean(text)).text = _clean(
                    "\n".join(line for i in problems for line in (i.message, *i.details))
                )
            notes = [i.message for i in mine if i.severity == "info"]
            if notes:
                ET.SubElement(case, "system-out").text = _clean("\n".join(notes))
        suite.set("tests", str(len(subjects)))
        suite.set("failures", str(suite_failed))
        suite.set("errors", str(suite_errored))
        total += len(subjects)
        failed += suite_failed
        errored += suite_errored
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", str(errored))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
