"""Replies written in the styles of real chat-model families, one per pipeline stage, each with what a
parser must recover from it. They are written after the habits these families show when asked for
lists, labels, examples and rewrites (preambles, bold titles, headings, numbered lists, rules,
closing summaries, blockquotes, echoing the examples back, being cut by the token limit); they are not
transcripts. Used by tests/unit/pipeline/test_parse.py and as scripted server replies.

Each family maps a stage to (reply, expected, finish_reason):
  tasks -> list of instructions; classification -> bool; input_first -> [(input, output)];
  output_first -> [(input, label)]; rewrite -> the prompt; answer -> the answer; judge -> bool (equal).
"""
from __future__ import annotations

FAMILIES: dict[str, dict[str, tuple]] = {
    "llama3": {
        "tasks": ("Here are 8 new tasks:\n\nTask 9: Write a short bedtime story about a brave snail.\n"
                  "Task 10: Convert the recipe quantities from cups to grams.\n"
                  "Task 11: Suggest three names for a bakery that sells only bread.",
                  ["Write a short bedtime story about a brave snail.",
                   "Convert the recipe quantities from cups to grams.",
                   "Suggest three names for a bakery that sells only bread."], "stop"),
        "classification": ("No", False, "stop"),
        "input_first": ("Here are some examples for the task:\n\nExample 1\nSentence: The meeting is at noon.\n"
                        "Output: La réunion est à midi.\n\nExample 2\nSentence: I like tea.\nOutput: J'aime le thé.",
                        [("Sentence: The meeting is at noon.", "La réunion est à midi."),
                         ("Sentence: I like tea.", "J'aime le thé.")], "stop"),
        "output_first": ("Class label: Spam\nEmail: Claim your free prize now!\nClass label: Not spam\n"
                         "Email: Lunch at 1 pm tomorrow?",
                         [("Email: Claim your free prize now!", "Spam"), ("Email: Lunch at 1 pm tomorrow?", "Not spam")],
                         "stop"),
        "rewrite": ("Here is the rewritten prompt:\n\nExplain why the sky is blue, using the word \"scattering\" "
                    "at least twice.",
                    "Explain why the sky is blue, using the word \"scattering\" at least twice.", "stop"),
        "answer": ("The sky looks blue because air molecules scatter short wavelengths of sunlight more than long ones.",
                   "The sky looks blue because air molecules scatter short wavelengths of sunlight more than long ones.",
                   "stop"),
        "judge": ("Not Equal", False, "stop"),
    },
    "qwen2.5": {
        "tasks": ("Sure! Here are eight new tasks:\n\n9. **Plan a Trip:** Plan a three-day trip to Lisbon on a "
                  "small budget.\n10. **Haiku:** Write a haiku about the first snow.\n"
                  "11. **Math Help:** Explain how to compute the area of a trapezoid.\n\n"
                  "These tasks cover planning, creative writing and math.",
                  ["Plan a three-day trip to Lisbon on a small budget.", "Write a haiku about the first snow.",
                   "Explain how to compute the area of a trapezoid."], "stop"),
        "classification": ("**Yes**\n\nThe task has a finite set of labels (spam or not spam).", True, "stop"),
        "input_first": ("Sure! Here are some examples:\n\n**Example 1:**\n**Input:** List: [3, 1, 2]\n"
                        "**Output:** [1, 2, 3]\n\n**Example 2:**\n**Input:** List: [10, -1]\n**Output:** [-1, 10]\n\n"
                        "Let me know if you need more examples!",
                        [("List: [3, 1, 2]", "[1, 2, 3]"), ("List: [10, -1]", "[-1, 10]")], "stop"),
        "output_first": ("Certainly! Here are the examples:\n\n**Class label:** Positive\n**Input:** Review: Great "
                         "battery life.\n\n**Class label:** Negative\n**Input:** Review: The screen cracked in a week."
                         "\n\nI hope this helps!",
                         [("Review: Great battery life.", "Positive"), ("Review: The screen cracked in a week.", "Negative")],
                         "stop"),
        "rewrite": ("**Rewritten Prompt:**\nList three uses of salt in cooking, and give one dish for each use.",
                    "List three uses of salt in cooking, and give one dish for each use.", "stop"),
        "answer": ("Sure! Here's a haiku about the first snow:\n\nSoft flakes on the roof\nthe garden forgets its name\n"
                   "one crow writes in black\n\nI hope you enjoy it!",
                   "Soft flakes on the roof\nthe garden forgets its name\none crow writes in black", "stop"),
        "judge": ("**Not Equal**", False, "stop"),
    },
    "mistral": {
        "tasks": (" 9. Describe the water cycle in four steps.\n10. Rewrite the sentence in the passive voice.\n"
                  "11. List five animals that live in the desert.\n12. Write a tweet announcing a",
                  ["Describe the water cycle in four steps.", "Rewrite the sentence in the passive voice.",
                   "List five animals that live in the desert."], "length"),
        "classification": ("Yes, because the output is one of a fixed set of labels.", True, "stop"),
        "input_first": ("1. Input: The cat sat on the mat.\n   Output: The mat was sat on by the cat.\n"
                        "2. Input: Sam wrote the letter.\n   Output: The letter was written by Sam.\n"
                        "3. Input: The dog chased",
                        [("The cat sat on the mat.", "The mat was sat on by the cat."),
                         ("Sam wrote the letter.", "The letter was written by Sam.")], "length"),
        "output_first": ("Class label: Even\nNumber: 42\n\nClass label: Odd\nNumber: 7",
                         [("Number: 42", "Even"), ("Number: 7", "Odd")], "stop"),
        "rewrite": ("#Rewritten Prompt#:\nDescribe the water cycle in four steps, naming one real river as an example.",
                    "Describe the water cycle in four steps, naming one real river as an example.", "stop"),
        "answer": ("Certainly! The water cycle has four steps: evaporation, condensation, precipitation and collection.",
                   "The water cycle has four steps: evaporation, condensation, precipitation and collection.", "stop"),
        "judge": ("Not Equal.\n\nThe second prompt adds a requirement to name a river.", False, "stop"),
    },
    "gemma2": {
        "tasks": ("## New Tasks\n\n**Task 9:** Write a thank-you note to a neighbour who watered your plants.\n\n"
                  "**Task 10:** Sort the words into alphabetical order.\n\n"
                  "I hope this helps! Let me know if you'd like more tasks.",
                  ["Write a thank-you note to a neighbour who watered your plants.",
                   "Sort the words into alphabetical order."], "stop"),
        "classification": ("**No**", False, "stop"),
        "input_first": ("## Examples\n\n**Input:** Words: pear, apple, fig\n**Output:** apple, fig, pear\n\n"
                        "**Input:** Words: zebra, ant\n**Output:** ant, zebra",
                        [("Words: pear, apple, fig", "apple, fig, pear"), ("Words: zebra, ant", "ant, zebra")], "stop"),
        "output_first": ("**Class label:** Fact\nStatement: Water boils at 100 °C at sea level.\n"
                         "**Class label:** Opinion\nStatement: Summer is the best season.",
                         [("Statement: Water boils at 100 °C at sea level.", "Fact"),
                          ("Statement: Summer is the best season.", "Opinion")], "stop"),
        "rewrite": ("## Rewritten Prompt\n\nSort the words into alphabetical order and count how many start with a vowel.",
                    "Sort the words into alphabetical order and count how many start with a vowel.", "stop"),
        "answer": ("Of course. Here is my answer:\nDear Ana, thank you so much for watering my plants while I was away.",
                   "Dear Ana, thank you so much for watering my plants while I was away.", "stop"),
        "judge": ("Equal", True, "stop"),
    },
    "phi3": {
        "tasks": ("Task 9: Identify the main idea of the paragraph.\n\n---\n\nTask 10: Create a packing list for a "
                  "weekend hike.\n\n---\n\nTask 11: Explain what a leap year is.",
                  ["Identify the main idea of the paragraph.", "Create a packing list for a weekend hike.",
                   "Explain what a leap year is."], "stop"),
        "classification": ("Is it classification? No", False, "stop"),
        "input_first": ("Output: - water bottle\n- rain jacket\n- trail map\n\nHope this helps!",
                        [("", "- water bottle\n- rain jacket\n- trail map")], "stop"),
        "output_first": ("Class label: (b)\n", [("", "(b)")], "stop"),
        "rewrite": ("\"Explain what a leap year is, and why the year 1900 was not one.\"",
                    "Explain what a leap year is, and why the year 1900 was not one.", "stop"),
        "answer": ("A leap year has 366 days.\n\nLet me know if you need more examples!", "A leap year has 366 days.",
                   "stop"),
        "judge": ("The two prompts are not equal.", False, "stop"),
    },
    "gpt-4o": {
        "tasks": ("Sure! Here are eight new tasks:\n\n1. **Task 9:** Compose a limerick about a forgetful robot.\n"
                  "2. **Task 10:** Summarize the plot of a fairy tale in two sentences.\n"
                  "3. **Task 11:** Give three tips for keeping a houseplant alive.",
                  ["Compose a limerick about a forgetful robot.", "Summarize the plot of a fairy tale in two sentences.",
                   "Give three tips for keeping a houseplant alive."], "stop"),
        "classification": ('```json\n{"classification": false}\n```', False, "stop"),
        "input_first": ('```json\n{"instances": [{"input": "Text: Example sentences often start simply.", '
                        '"output": "Examples start simply."}, {"input": "", "output": "Keep it short."}]}\n```',
                        [("Text: Example sentences often start simply.", "Examples start simply."), ("", "Keep it short.")],
                        "stop"),
        "output_first": ('{"instances": [{"class_label": "Mixed", "input": "Sentence: Tasty food, slow service."}, '
                         '{"class_label": "Positive", "input": "Sentence: Lovely staff."}]}',
                         [("Sentence: Tasty food, slow service.", "Mixed"), ("Sentence: Lovely staff.", "Positive")],
                         "stop"),
        "rewrite": ('{"prompt": "Give three tips for keeping a houseplant alive in a dark flat."}',
                    "Give three tips for keeping a houseplant alive in a dark flat.", "stop"),
        "answer": ("Here's a limerick about a forgetful robot:\n\nA robot named Clank lost his keys,\n"
                   "then his bolts, then his memories.\n\nWould you like me to write another one?",
                   "A robot named Clank lost his keys,\nthen his bolts, then his memories.", "stop"),
        "judge": ('{"equal": false}', False, "stop"),
    },
    "deepseek-v3": {
        "tasks": ("Here are 8 new tasks following the same style:\n\n- Translate the greeting into Spanish.\n"
                  "- Estimate how long it takes to walk 5 km.\n- Name a famous painting by Frida Kahlo.\n\n"
                  "These tasks vary in topic and difficulty.",
                  ["Translate the greeting into Spanish.", "Estimate how long it takes to walk 5 km.",
                   "Name a famous painting by Frida Kahlo."], "stop"),
        "classification": ("The answer is: **No**.", False, "stop"),
        "input_first": ("### Example 1\nInput: Greeting: Good morning\nOutput: Buenos días\n\n### Example 2\n"
                        "Input: Greeting: Good night\nOutput: Buenas noches\n\nFeel free to ask for more.",
                        [("Greeting: Good morning", "Buenos días"), ("Greeting: Good night", "Buenas noches")], "stop"),
        "output_first": ("- Class label: Positive\n  Review: Arrived early and works well.\n"
                         "- Class label: Negative\n  Review: Missing parts.",
                         [("Review: Arrived early and works well.", "Positive"), ("Review: Missing parts.", "Negative")],
                         "stop"),
        "rewrite": ("Sure! Here's the rewritten prompt:\n\n> Translate the greeting into Spanish and explain when it "
                    "is used.\n\nLet me know if you want any changes!",
                    "Translate the greeting into Spanish and explain when it is used.", "stop"),
        "answer": ("Walking 5 km takes about an hour at a normal pace.\n\nI hope this helps!",
                   "Walking 5 km takes about an hour at a normal pace.", "stop"),
        "judge": ("Not equal. The second one adds a time constraint.", False, "stop"),
    },
    "smollm2": {
        "tasks": ("Task 1: Suggest a high-protein breakfast that contains no eggs.\nTask 2: Classify the sentiment of "
                  "the review.\n\nTask 9: Write a short story about a person who is a good friend to you.\n"
                  "Task 10: Create a new recipe for a dish that your friend has never tried.\nTask",
                  ["Suggest a high-protein breakfast that contains no eggs.", "Classify the sentiment of the review.",
                   "Write a short story about a person who is a good friend to you.",
                   "Create a new recipe for a dish that your friend has never tried."], "length"),
        "classification": ("Yes, it is a classification task.", True, "stop"),
        "input_first": ("Example 1\nInput: The weather is nice today.\nOutput: Positive\n\nExample 2\nInput: I lost my "
                        "keys.\nOutput: Negative",
                        [("The weather is nice today.", "Positive"), ("I lost my keys.", "Negative")], "stop"),
        "output_first": ("Class label: Positive\nSentence: I love this place.\nClass label: Negative\nSentence: It was",
                         [("Sentence: I love this place.", "Positive")], "length"),
        "rewrite": ("Rewritten prompt: Write a short story about a friend who helps you move house in the rain.",
                    "Write a short story about a friend who helps you move house in the rain.", "stop"),
        "answer": ("Sure! Once upon a time, my friend Sam helped me carry boxes through the rain.",
                   "Once upon a time, my friend Sam helped me carry boxes through the rain.", "stop"),
        "judge": ("Equal.", True, "stop"),
    },
}
