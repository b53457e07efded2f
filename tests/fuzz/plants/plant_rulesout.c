/* Planted defect "rulesout": the effective rule set the store gives back
 * is off by one (the first threshold written is one more than in force).
 * The rule-set harness must fail its fixed-point check. */
#include "internal.h"
#include "rules_internal.h"

#include <json-c/json.h>
#include <string.h>

int __real_eaudit__ruleset_write(eaudit_store *s, const eaudit__ruleset *rs,
                                 char **out);
int __wrap_eaudit__ruleset_write(eaudit_store *s, const eaudit__ruleset *rs,
                                 char **out);

int __wrap_eaudit__ruleset_write(eaudit_store *s, const eaudit__ruleset *rs,
                                 char **out) {
  int rc = __real_eaudit__ruleset_write(s, rs, out);
  if (rc)
    return rc;
  json_object *root = json_tokener_parse(*out), *rules = NULL;
  if (root && json_object_object_get_ex(root, "rules", &rules))
    for (size_t i = 0; i < json_object_array_length(rules); i++) {
      json_object *t = NULL;
      if (json_object_object_get_ex(json_object_array_get_idx(rules, i),
                                    "threshold", &t)) {
        json_object_set_int64(t, json_object_get_int64(t) + 1);
        char *changed = eaudit__strdup(json_object_to_json_string(root));
        if (changed) {
          eaudit__free(*out);
          *out = changed;
        }
        break;
      }
    }
  json_object_put(root);
  return EAUDIT_OK;
}
