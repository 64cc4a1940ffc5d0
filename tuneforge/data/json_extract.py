"""Deterministic extraction into strict one-line JSON (the smollm2_lora recipe's task).

A user message asks for a person's details from one sentence ("Nadia Okafor, 41, moved to Lisbon
last year."); the answer is exactly
`{"first_name": "Nadia", "last_name": "Okafor", "age": 41, "city": "Lisbon"}` (the name split in two,
fixed key order, one line, no code fence). SmolLM2-135M-Instruct extracts such fields, but as
multi-line JSON with a single "name" key, or echoes the sentence: exact match before tuning is 0. The test split's first names and cities never occur in
training, so exact match on it measures the format and the extraction, not memorised values.
"""
from __future__ import annotations

import json
import random

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data.base import Splits

FIRST = ("Nadia Omar Lucia Kenji Priya Mateo Ingrid Tariq Chloe Dmitri Amara Felix Sofia Ravi Helga "
         "Jonas Mei Pablo Zara Hugo Elena Kwame Yuki Lars Fatima Diego Anika Oscar Leila Tomas Ines "
         "Malik Greta Arjun Noor Emil Camila Sven Aisha Bruno Hana Rafael Olga Samir Clara Viktor Maya "
         "Idris Rosa Anton Lena Karim Julia Ivan Nora Marco Selin Axel Dalia Pedro").split()
LAST = ("Okafor Silva Tanaka Novak Haddad Moreau Jensen Rossi Kowalski Mendes Nakamura Petrov Larsen "
        "Costa Fischer Ibrahim Duarte Lindqvist Sato Romero Weber Adeyemi Horvat Nilsson Vargas Becker "
        "Kaya Fontaine Moretti Dubois Yilmaz Castro Berg Alvarez Schmidt Mensah Keller Laurent Santos "
        "Ivanova").split()
CITIES = ("Lisbon Oslo Nairobi Kyoto Lima Vienna Dublin Cairo Montreal Seoul Porto Krakow Dakar Quito "
          "Helsinki Bergen Accra Osaka Valencia Zurich Tunis Hanoi Bogota Prague Riga Leeds Malaga Turin "
          "Cusco Tallinn Geneva Lyon Austin Denver Perth Adelaide Madras Casablanca Tbilisi Ghent").split()
PHRASES = (
    "{name} is {age} years old and lives in {city}.",
    "{name}, {age}, moved to {city} last year.",
    "Meet {name}: {age} years old, based in {city}.",
    "At {age}, {name} still calls {city} home.",
    "{name} ({age}) works from an office in {city}.",
    "Born {age} years ago, {name} now lives in {city}.",
    "Our new member is {name} from {city}, aged {age}.",
    "{city} resident {name} turned {age} this spring.",
)
INSTRUCTIONS = (
    "Extract the person's first name, last name, age and city as JSON.",
    "Return a JSON record of the person below.",
    "Person record as JSON, please:",
)


def answer(first: str, last: str, age: int, city: str) -> str:
    """The one correct reply: one-line JSON with a fixed key order."""
    return json.dumps({"first_name": first, "last_name": last, "age": age, "city": city})


@register("data_builder", "json_extract")
class JsonExtract:
    """Sentence -> {"first_name", "last_name", "age", "city"} as one-line JSON; test first names and
    cities never occur in training."""

    def __init__(self, num_train: int = 1200, num_val: int = 32, num_test: int = 100,
                 held_out_names: int = 12, held_out_cities: int = 8, seed: int = 0):
        for key, value, low in (("num_train", num_train, 1), ("num_val", num_val, 0), ("num_test", num_test, 0),
                                ("held_out_names", held_out_names, 1), ("held_out_cities", held_out_cities, 1)):
            if value < low:
                raise ConfigError(ConfigIssue(f"data.{key}", f"expected an integer >= {low}, got {value}"))
        if held_out_names >= len(FIRST) or held_out_cities >= len(CITIES):
            raise ConfigError(ConfigIssue("data.held_out_names", f"at most {len(FIRST) - 1} names and "
                                                                 f"{len(CITIES) - 1} cities can be held out"))
        self.sizes = {"train": num_train, "val": num_val, "test": num_test}
        self.held_out = held_out_names, held_out_cities
        self.seed = seed

    def build(self) -> Splits:
        rng = random.Random(self.seed)
        first, cities = list(FIRST), list(CITIES)
        rng.shuffle(first)
        rng.shuffle(cities)
        n_names, n_cities = self.held_out
        pools = {"test": (first[:n_names], cities[:n_cities]), "val": (first[n_names:], cities[n_cities:]),
                 "train": (first[n_names:], cities[n_cities:])}
        used: set[tuple] = set()
        splits: Splits = {}
        for split in ("test", "val", "train"):  # every (person, age, city, phrasing) appears once overall
            names, places = pools[split]
            examples: list[Example] = []
            while len(examples) < self.sizes[split]:
                first_name, last_name = rng.choice(names), rng.choice(LAST)
                name, age, city = f"{first_name} {last_name}", rng.randint(18, 89), rng.choice(places)
                phrase, instruction = rng.randrange(len(PHRASES)), rng.randrange(len(INSTRUCTIONS))
                key = (name, age, city, phrase)
                if key in used:
                    continue
                used.add(key)
                sentence = PHRASES[phrase].format(name=name, age=age, city=city)
                examples.append(Example.single_turn(f"{INSTRUCTIONS[instruction]}\n\n{sentence}",
                                                    answer(first_name, last_name, age, city), task="json_extract"))
            splits[split] = examples
        return splits
