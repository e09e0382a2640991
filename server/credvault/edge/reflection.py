"""Server reflection that serves the proto's comments, so `grpcurl describe` is the manual.

grpcio-reflection answers with `FileDescriptor.CopyToProto`, which leaves out the source info (where the
comments live), and the generated modules hold none anyway. `scripts/generate` writes the descriptors with
source info to `v1/credvault.binpb`; the pool here hands reflection those, and the generated ones for
everything else (health, well-known types).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import cast

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor


class _File:
    """A file descriptor as reflection uses it (`name`, `dependencies`, `CopyToProto`), with comments.
    Only the source info is taken from the descriptor set: the rest (without protoc's `json_name`s, which
    would turn grpcurl's output to camelCase) stays as the generated modules have it."""

    def __init__(self, file: FileDescriptor, commented: Mapping[str, descriptor_pb2.FileDescriptorProto]):
        self._file = file
        self._commented = commented
        self.name = file.name

    @property
    def dependencies(self) -> list[_File]:
        return [_File(dependency, self._commented) for dependency in self._file.dependencies]

    def CopyToProto(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        self._file.CopyToProto(proto)
        if self.name in self._commented:  # the same file, built from the same proto by scripts/generate
            proto.source_code_info.CopyFrom(self._commented[self.name].source_code_info)


class CommentedPool:
    """The descriptor-pool methods grpcio-reflection calls, answering files with their comments."""

    def __init__(
        self, pool: descriptor_pool.DescriptorPool, commented: Sequence[descriptor_pb2.FileDescriptorProto]
    ):
        self._pool = pool
        self._commented = {file.name: file for file in commented}

    def FindFileByName(self, name: str) -> _File:
        return _File(self._pool.FindFileByName(name), self._commented)

    def FindFileContainingSymbol(self, symbol: str) -> _File:
        return _File(self._pool.FindFileContainingSymbol(symbol), self._commented)

    def FindMessageTypeByName(self, name: str) -> Descriptor:
        return self._pool.FindMessageTypeByName(name)

    def FindExtensionByNumber(self, message: Descriptor, number: int) -> FieldDescriptor:
        return self._pool.FindExtensionByNumber(message, number)

    def FindAllExtensions(self, message: Descriptor) -> list[FieldDescriptor]:
        return list(self._pool.FindAllExtensions(message))


def commented_pool() -> descriptor_pool.DescriptorPool:
    """The default pool (where the generated modules registered), with credvault's comments; typed as
    the pool grpcio-reflection asks for, whose methods it alone calls."""
    data = resources.files("credvault.v1").joinpath("credvault.binpb").read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data).file
    return cast(descriptor_pool.DescriptorPool, CommentedPool(descriptor_pool.Default(), files))
