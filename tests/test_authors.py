from __future__ import annotations

import pytest

from pipelines.extraction.authors import clean_authors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Smith and Tom O'Neill"], ["Jane Smith", "Tom O'Neill"]),
        (["Posted by admin"], []),
        (["Von Anna Müller und Jonas Weber"], ["Anna Müller", "Jonas Weber"]),
        (["Por Lucía Fernández y Javier Ortega"], ["Lucía Fernández", "Javier Ortega"]),
        (["Par Claire Dubois"], ["Claire Dubois"]),
        (["Автор: Иван Петров"], ["Иван Петров"]),
        (["By Sarah Miller, Staff Writer"], ["Sarah Miller"]),
        (["Ruth Okafor · Sep 4, 2023"], ["Ruth Okafor"]),
        (["Kenji Sato; Emily Clarke", "Kenji Sato"], ["Kenji Sato", "Emily Clarke"]),
        (["staff", "Redaktion", "newsroom@example.org"], []),
        (["Jane Doe - Updated 10:05"], ["Jane Doe"]),
        (["Jane Doe, September 4, 2023"], ["Jane Doe"]),
        (["Jane Doe | Monday"], ["Jane Doe"]),
        (["José Ortega y Gasset"], ["José Ortega y Gasset"]),
        (["Site Admin", "Guest Author", "Korrespondentin in Berlin"], []),
        (["A. Smith, B. Jones and C. Brown"], ["A. Smith", "B. Jones", "C. Brown"]),
        # labels before the names, and the label alone in its own element
        (["Authors: Julie Weisenhorn and Natalie Hoidal"], ["Julie Weisenhorn", "Natalie Hoidal"]),
        (["Authored by: Ehsan Jazini"], ["Ehsan Jazini"]),
        (["Article by", "Cara Dumaplin"], ["Cara Dumaplin"]),
        (["Recipe by PJ Hamel"], ["PJ Hamel"]),
        (["Insights from", "Liza Burke"], ["Liza Burke"]),
        # a credential list and a job description are not names; particles and brands are kept
        (["Cara Dumaplin", "RN, BSN"], ["Cara Dumaplin"]),
        (["Natalie Hoidal", "Extension horticulture educators"], ["Natalie Hoidal"]),
        (["Ursula von der Leyen"], ["Ursula von der Leyen"]),
        (["FOCUS online"], ["FOCUS online"]),
        # a job title or a desk set after the name without a comma is cut off; a title alone is no name
        (["By Jane Doe Senior Autos Reporter"], ["Jane Doe"]),
        (["Danielle PadulaHead of Marketing"], ["Danielle Padula"]),
        (["By Meg Quill VALLEY FARM WIRE"], ["Meg Quill"]),
        (["Matthew Ryder⋅Review Editor⋅Updated May 2, 2024"], ["Matthew Ryder"]),
        (["News & Culture Writer", "Marketing and Event Coordinator"], []),
        (["Senior Politics Editor", "Certified Pediatric Sleep Consultant"], []),
        (["Dylan Baird, MS, RD, FAND"], ["Dylan Baird, MS, RD, FAND"]),
        (["Ruth Alder's Most Recent Stories"], []),
        # an avatar's initials beside the name are no second author; an agency's letters alone are
        (["RA", "Ruth Alder"], ["Ruth Alder"]),
        (["Ruth Alder", "VPA"], ["Ruth Alder", "VPA"]),
        # digits inside a word are part of the name, not the start of a date
        (["KR24 Redaktion"], ["KR24 Redaktion"]),
    ],
)
def test_clean_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected
