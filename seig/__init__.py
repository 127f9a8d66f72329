"""seig: Staged Executable Inverse Graphics — a photograph in, an editable Blender program out."""

__version__ = "0.1.0"
