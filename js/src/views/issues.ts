// Names of the quality checks (lightly_studio.quality) as the views show them: the filter
// panel's Quality section and the issue chips on grid tiles.

const LABELS: Record<string, string> = {
  blurry: "blurry",
  dark: "dark",
  light: "light",
  low_information: "low info",
  odd_aspect_ratio: "odd ratio",
  odd_size: "odd size",
  grayscale: "grayscale",
  exact_duplicates: "dup",
  near_duplicates: "near dup",
  corrupt: "corrupt",
  label_issues: "label issue",
  wrong_label: "wrong label",
  bad_location: "bad location",
  swapped_label: "swapped label",
  overlooked: "overlooked",
  box_outside_image: "box outside image",
  tiny_box: "tiny box",
  duplicate_box: "duplicate box",
  empty_mask: "empty mask",
  mask_outside_box: "mask outside box",
};

/** A check's short name for the views (unknown names as they are, underscores as spaces). */
export function issueLabel(issue: string): string {
  return LABELS[issue] ?? issue.replace(/_/g, " ");
}
