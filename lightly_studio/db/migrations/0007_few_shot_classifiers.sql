-- Few-shot classifiers (lightly_studio.classifier, docs/classifier.md), kept with the dataset so
-- dataset.few_shot_classifier(name) finds one after a restart. One row per classifier, its name
-- unique per dataset (saving replaces the row). Examples are two parallel lists (sample id,
-- class); coef [k][d] and intercept [k] are the logistic regression's weights, NULL until
-- trained; embedding_model is the name of the vectors it was trained on.
CREATE TABLE few_shot_classifier (
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    classes VARCHAR[] NOT NULL,
    embedding_model VARCHAR NOT NULL,
    example_sample_ids UUID[] NOT NULL,
    example_classes VARCHAR[] NOT NULL,
    coef DOUBLE[][],
    intercept DOUBLE[],
    updated_at TIMESTAMP NOT NULL
);
