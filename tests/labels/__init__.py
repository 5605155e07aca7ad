"""Tests of annotations, labels, captions, COCO/YOLO import and export (issue 3)."""
