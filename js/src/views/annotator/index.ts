// The annotation editor view (see view.ts); pure helpers live next to it for tests.
export { Annotator, mountAnnotator, type AnnotatorInfo, type Ann } from "./view";
export { memoryModel, openAnnotator, type OpenAnnotatorOptions } from "./embed";
