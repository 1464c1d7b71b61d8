#!/usr/bin/env bash
# manifest_field.sh OBJECT FIELD: the string FIELD of the manifest a
# compiled model object carries (compact JSON, "field":"value"), or nothing.
grep -ao "\"$2\":\"[a-z0-9_-]*\"" "$1" | head -1 | cut -d'"' -f4
