"""Reading served pages as a browser and a screen reader would: the element tree, ids,
form fields and what a screen reader reads as a field's description."""

from html.parser import HTMLParser


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text_parts = [], []

    @property
    def text(self):
        parts = list(self.text_parts)
        for child in self.children:
            parts.append(child.text)
        return " ".join(" ".join(parts).split())

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Tree(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("document", {}, None)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text_parts.append(data)


def parse(html):
    tree = _Tree()
    tree.feed(html)
    return tree.root


def by_id(root):
    return {element.attrs["id"]: element for element in root.iter() if "id" in element.attrs}


def form_fields(root):
    return [
        element
        for element in root.iter()
        if element.tag in ("input", "select", "textarea")
        and element.attrs.get("type") not in ("hidden", "submit")
    ]


def description_of(field, ids):
    """What a screen reader reads as the field's description: its own aria-describedby
    and that of the fieldset around it."""
    holders = [field, *(a for a in field.ancestors() if a.tag == "fieldset")]
    wanted = [i for holder in holders for i in holder.attrs.get("aria-describedby", "").split()]
    return " ".join(ids[i].text for i in wanted if i in ids)


def field_signature(html):
    """The names and kinds of the form's fields, and the choices each offers."""
    return sorted(
        (field.attrs["name"], field.tag, field.attrs.get("type", ""), field.attrs.get("value", ""))
        for field in form_fields(parse(html))
        if field.attrs.get("name") not in ("form_key", "csrfmiddlewaretoken")
        and field.attrs.get("type") in ("radio", "checkbox")
    ) + sorted(
        (field.attrs["name"], field.tag, field.attrs.get("type", ""))
        for field in form_fields(parse(html))
        if field.attrs.get("type") not in ("radio", "checkbox")
    )


def headings(html):
    return [
        (int(element.tag[1]), element.text)
        for element in parse(html).iter()
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6")
    ]
