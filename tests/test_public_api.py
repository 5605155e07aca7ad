"""Every import path of the reference product's documented API exists here."""

from __future__ import annotations

import importlib

import pytest

import lightly_studio as ls

DOCUMENTED = [
    ("lightly_studio", "ImageDataset"),
    ("lightly_studio", "AnnotationType"),
    ("lightly_studio", "start_gui"),
    ("lightly_studio", "db_manager"),
    ("lightly_studio.db_manager", "connect"),
    ("lightly_studio.utils", "download_example_dataset"),
    ("lightly_studio.dataset", "env"),
    ("lightly_studio.core.video_dataset", "VideoDataset"),
    ("lightly_studio.core.annotation", "ObjectDetectionAnnotation"),
    ("lightly_studio.core.annotation", "ClassificationAnnotation"),
    ("lightly_studio.core.annotation", "InstanceSegmentationAnnotation"),
    ("lightly_studio.core.annotation", "SemanticSegmentationAnnotation"),
    ("lightly_studio.core.annotation", "CreateObjectDetection"),
    ("lightly_studio.core.annotation", "CreateClassification"),
    ("lightly_studio.core.annotation", "CreateInstanceSegmentation"),
    ("lightly_studio.core.annotation", "CreateSemanticSegmentation"),
    ("lightly_studio.core.dataset_query", "AND"),
    ("lightly_studio.core.dataset_query", "OR"),
    ("lightly_studio.core.dataset_query", "NOT"),
    ("lightly_studio.core.dataset_query", "OrderByField"),
    ("lightly_studio.core.dataset_query", "ImageSampleField"),
    ("lightly_studio.core.dataset_query", "VideoSampleField"),
    ("lightly_studio.selection.selection_config", "MetadataWeightingStrategy"),
    ("lightly_studio.selection.selection_config", "EmbeddingDiversityStrategy"),
    ("lightly_studio.selection.selection_config", "EmbeddingSimilarityStrategy"),
    ("lightly_studio.selection.selection_config", "AnnotationClassBalancingStrategy"),
    ("lightly_studio.plugins.base_operator", "BaseOperator"),
    ("lightly_studio.plugins.base_operator", "OperatorResult"),
    ("lightly_studio.plugins.parameter", "StringParameter"),
    ("lightly_studio.plugins.parameter", "FloatParameter"),
    ("lightly_studio.plugins.operator_registry", "operator_registry"),
    ("lightly_studio.models.annotation.annotation_base", "AnnotationCreate"),
    ("lightly_studio.models.annotation.annotation_base", "AnnotationType"),
    ("lightly_studio.models.annotation_label", "AnnotationLabelCreate"),
    ("lightly_studio.resolvers", "annotation_label_resolver"),
    ("lightly_studio.resolvers", "annotation_resolver"),
    ("lightly_studio.resolvers", "image_resolver"),
]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED, ids=[f"{m}.{n}" for m, n in DOCUMENTED])
def test_documented_import_paths_exist(module, name):
    assert getattr(importlib.import_module(module), name) is not None


@pytest.mark.parametrize("name", ls.__all__)
def test_every_public_name_resolves(name):
    assert getattr(ls, name) is not None


def test_env_values_the_docs_use():
    from lightly_studio.dataset import env

    assert env.LIGHTLY_STUDIO_PORT and env.LIGHTLY_STUDIO_HOST
    assert env.APP_URL.startswith("http")
