"""YAML for the sites file, bounded so a hostile or broken file fails in
milliseconds with its line, instead of eating memory or the stack.

libyaml (C) scans and parses; the node tree is composed here, in Python, because
the C composer can be neither bounded nor told to stop: it recurses once per
nesting level (a few MB of ``[[[[`` overflow the C stack) and would accept any
tag. While composing, ``BoundedLoader`` refuses

- nesting deeper than ``MAX_DEPTH`` (a sites file needs five levels);
- anchors and aliases whose expansion would exceed ``MAX_EXPANDED`` (the
  billion-laughs bomb: nine aliases of nine aliases ... is tiny on disk and
  gigabytes once anything walks it) and aliases of their own enclosing node;
- explicit tags other than the plain YAML types (``!!python/object/apply:...``).

Anchors within the budget keep working (``selectors: *trs_cms`` shared by many
sites). Errors are ``YAMLLimitError`` with the line, in Chinese.
"""
from __future__ import annotations

import yaml
from yaml.composer import ComposerError
from yaml.events import (AliasEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent,
                         SequenceStartEvent, StreamEndEvent)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_BYTES = 5 * 1024 * 1024       # 3,000 full site entries take ~0.75 MB
MAX_DEPTH = 32                    # root > sites > site > selectors > value is 5
MAX_NODES = 250_000               # 3,000 sites with some overrides are ~47,000; ~200 B each
# Scalar characters + nodes, counted as if every alias were copied out. A file without
# aliases stays under it (its scalars are at most its bytes), so only reuse can reach it.
MAX_EXPANDED = MAX_BYTES + MAX_NODES
_TOO_DEEP = f"嵌套超过 {MAX_DEPTH} 层：站点文件不需要这么深的结构"
_SAFE_TAGS = frozenset(tag for tag in yaml.SafeLoader.yaml_constructors if tag) | {"!"}


class YAMLLimitError(yaml.YAMLError):
    def __init__(self, message: str, mark):
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else 1


if hasattr(yaml, "CSafeLoader"):
    _Base = yaml.CSafeLoader
else:                              # PyYAML built without libyaml: same rules, slower
    _Base = yaml.SafeLoader


class BoundedLoader(_Base):
    """``yaml.CSafeLoader`` whose node tree is composed under the limits above;
    ``get_single_node()`` then ``construct_object(node, deep=True)`` per value."""

    def __init__(self, stream):
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}
        self.anchor_weights: dict[str, int] = {}  # expanded size of each anchored node, once composed
        self._depth = 0
        self._nodes = 0
        self._marks: dict[int, object] = {}       # one mark per line, shared by the nodes on it

    def get_single_node(self):
        try:
            return self._single_document()
        except yaml.MarkedYAMLError as exc:
            if "nesting depth" in str(exc.problem):    # libyaml's own flow-nesting limit
                raise YAMLLimitError(_TOO_DEEP, exc.problem_mark) from None
            raise

    def _single_document(self):
        self.get_event()                       # StreamStart
        document = None
        if not self.check_event(StreamEndEvent):
            self.get_event()                   # DocumentStart
            document, _ = self._compose()
            self.get_event()                   # DocumentEnd
        if not self.check_event(StreamEndEvent):
            event = self.get_event()
            raise ComposerError("expected a single document in the stream", document.start_mark,
                                "but found another document", event.start_mark)
        self.get_event()
        return document

    def _compose(self) -> tuple[yaml.Node, int]:
        """The next node and its size as if every alias in it were copied out."""
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YAMLLimitError(f"超过 {MAX_NODES:,} 个 YAML 节点（3,000 个站点约 47,000 个）：请检查是否选错了文件",
                                 self.peek_event().start_mark)
        if self.check_event(AliasEvent):
            event = self.get_event()
            if event.anchor not in self.anchors:
                raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            if event.anchor not in self.anchor_weights:
                raise YAMLLimitError(f"别名 *{event.anchor} 引用了包含它自身的节点（循环引用）",
                                     event.start_mark)
            return self.anchors[event.anchor], self.anchor_weights[event.anchor]
        event = self.peek_event()
        if event.anchor is not None and event.anchor in self.anchors:
            raise ComposerError("found duplicate anchor", self.anchors[event.anchor].start_mark,
                                "second occurrence", event.start_mark)
        if event.tag is not None and event.tag not in _SAFE_TAGS:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise YAMLLimitError(f"不支持的 YAML 标签 {tag}：站点文件只能写文本、数字、列表和映射",
                                 event.start_mark)
        if isinstance(event, ScalarEvent):
            self.get_event()
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolve(ScalarNode, event.value, event.implicit)
            # One start mark per line and no end marks (nothing reads them): the marks were
            # half of the tree's memory.
            mark = self._marks.setdefault(event.start_mark.line, event.start_mark)
            node, weight = ScalarNode(tag, event.value, mark, None, event.style), len(event.value) + 1
        else:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise YAMLLimitError(_TOO_DEEP, event.start_mark)
            node, weight = self._collection()
            self._depth -= 1
        if event.anchor is not None:
            self.anchors[event.anchor] = node      # (a collection registers itself earlier, see below)
            self.anchor_weights[event.anchor] = weight
        return node, weight

    def _collection(self) -> tuple[yaml.Node, int]:
        start = self.get_event()
        kind, end = ((SequenceNode, SequenceEndEvent) if isinstance(start, SequenceStartEvent)
                     else (MappingNode, MappingEndEvent))
        tag = start.tag if start.tag not in (None, "!") else self.resolve(kind, None, start.implicit)
        mark = self._marks.setdefault(start.start_mark.line, start.start_mark)
        node = kind(tag, [], mark, None, flow_style=start.flow_style)
        if start.anchor is not None:
            self.anchors[start.anchor] = node      # so an alias inside it is caught as a cycle
        weight, pending = 1, []
        while not self.check_event(end):
            mark = self.peek_event().start_mark
            child, size = self._compose()
            # Checked per child, so a bomb stops at the first alias that crosses the line.
            weight += size
            if weight > MAX_EXPANDED:
                raise YAMLLimitError(f"别名展开后超过 {MAX_EXPANDED // 10_000} 万个字符（YAML 别名炸弹？）："
                                     "请少用别名，直接写出内容", mark)
            if kind is SequenceNode:
                node.value.append(child)
            elif pending:
                node.value.append((pending.pop(), child))
            else:
                pending.append(child)
        self.get_event()
        return node, weight
