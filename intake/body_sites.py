"""Where on the body a symptom is felt: the sites a body-sites question offers, by region."""

REGIONS = [
    (
        "Head and face",
        [("eyelid", "Eyelid"), ("face", "Face"), ("lips-tongue", "Lips or tongue"), ("jaw", "Jaw")],
    ),
    (
        "Neck and body",
        [
            ("neck", "Neck"),
            ("shoulder", "Shoulder"),
            ("chest", "Chest"),
            ("back", "Back"),
            ("belly", "Belly (abdomen)"),
        ],
    ),
    (
        "Arms and hands",
        [
            ("upper-arm", "Upper arm"),
            ("forearm", "Forearm"),
            ("hand", "Hand"),
            ("thumb", "Thumb"),
            ("fingers", "Fingers"),
        ],
    ),
    (
        "Legs and feet",
        [("thigh", "Thigh"), ("calf", "Calf"), ("foot", "Foot"), ("toes", "Toes")],
    ),
]

LABELS = {value: label for _, sites in REGIONS for value, label in sites}
