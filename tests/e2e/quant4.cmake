# 4-bit checkpoints in the layouts Qwen publishes (GPTQ-Int4, AWQ), made by
# `qwenc quantize --format` from the bf16 cases and checked against the
# reference, which dequantizes them with its own code. Between them: tied
# and untied heads, one file and shards, groups of 8, 32 and whole columns,
# symmetric and asymmetric zeros, both GPTQ zero conventions, chunked
# prefill, odd head_dim and vocabulary.
set(Q4_TIED_TOKENS 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20)
set(Q4_UNTIED_TOKENS 3,40,77,114,151,188,225,262,299,336,373,410,447,484,521,558,595,632,669,706,743,780,817,854,891,928,965)
# Decode keeps f32 activations in the cases (the default for groups of 32
# on AVX2 is int8-dot, tested below), so they are held to f32's tolerance.
qwenc_e2e_case(gptq_tied FROM tied_bf16 GEN --format gptq --group-size 32 COMPILE --decode-math f32 TOKENS ${Q4_TIED_TOKENS})
qwenc_e2e_case(gptq_v2_asym_untied FROM untied_sharded GEN --format gptq --group-size 8 --asym --checkpoint-format gptq_v2 --shards 2
  COMPILE --prefill-chunk 16 TOKENS ${Q4_UNTIED_TOKENS})
qwenc_e2e_case(gptq_per_column FROM tied_bf16 GEN --format gptq --group-size -1 --asym --shards 3
  COMPILE --decode-math f32 TOKENS ${Q4_TIED_TOKENS})
qwenc_e2e_case(awq_tied FROM tied_bf16 GEN --format awq --group-size 32 COMPILE --decode-math f32 TOKENS ${Q4_TIED_TOKENS})
qwenc_e2e_case(awq_untied FROM untied_sharded GEN --format awq --group-size 8
  COMPILE --prefill-chunk 16 TOKENS ${Q4_UNTIED_TOKENS})
# Close to the bf16 model they came from: a sanity check on the writer's
# rounding. Groups of 32 random uniform weights on 16 levels: logits move by
# up to ~1.1 std and 70% of argmaxes stay (a wrong zero or scale leaves ~0%).
add_test(NAME e2e.gptq_tied.close_to_bf16
         COMMAND ${BIN}/qwenc-compare-logits ${E2E_DIR}/tied_bf16/logits.bin ${E2E_DIR}/gptq_tied/logits.bin --vocab 512
                 --max-diff-std 1.5 --min-top1 0.6)
set_tests_properties(e2e.gptq_tied.close_to_bf16 PROPERTIES FIXTURES_REQUIRED "tied_bf16_logits;gptq_tied_logits")

# Bad 4-bit input: one line naming the field or tensor.
set(Q4 ${E2E_DIR}/gptq_tied)
set(EDIT_HEADER ${CMAKE_CURRENT_SOURCE_DIR}/edit_header.py)
function(q4_config_refusal NAME REGEX JQ)
  add_test(NAME e2e.quant4_refuses_${NAME}
           COMMAND bash -c "mkdir -p '${E2E_DIR}/q4_${NAME}' && jq '${JQ}' '${Q4}/config.json' > '${E2E_DIR}/q4_${NAME}/config.json' && '${EXPECT_ERROR}' \"${REGEX}\" '${BIN}/qwenc' '${E2E_DIR}/q4_${NAME}/config.json' -o '${E2E_DIR}/q4_${NAME}/never.so'")
  set_tests_properties(e2e.quant4_refuses_${NAME} PROPERTIES FIXTURES_REQUIRED gptq_tied_model)
endfunction()
q4_config_refusal(bits_3 "quantization_config: field 'bits' = 3: qwenc reads 4-bit gptq checkpoints only" ".quantization_config.bits = 3")
q4_config_refusal(bits_8 "quantization_config: field 'bits' = 8: qwenc reads 4-bit gptq checkpoints only" ".quantization_config.bits = 8")
q4_config_refusal(desc_act "quantization_config: field 'desc_act' = true" ".quantization_config.desc_act = true")
q4_config_refusal(group_not_dividing "group_size 48 does not divide hidden_size 64" ".quantization_config.group_size = 48")
q4_config_refusal(awq_gemv "field 'version' = \\\"gemv\\\"" ".quantization_config = {quant_method: \"awq\", bits: 4, group_size: 32, version: \"gemv\", zero_point: true}")
q4_config_refusal(checkpoint_format "field 'checkpoint_format' = \\\"marlin\\\"" ".quantization_config.checkpoint_format = \"marlin\"")
function(q4_weights_refusal NAME REGEX)
  string(REPLACE ";" " " edit "${ARGN}")
  add_test(NAME e2e.quant4_refuses_${NAME}
           COMMAND bash -c "'${EDIT_HEADER}' '${Q4}' '${E2E_DIR}/q4_${NAME}' ${edit} && '${EXPECT_ERROR}' \"${REGEX}\" '${BIN}/qwenrun' --model '${Q4}/model.so' --weights '${E2E_DIR}/q4_${NAME}' --tokens 1")
  set_tests_properties(e2e.quant4_refuses_${NAME} PROPERTIES FIXTURES_REQUIRED "gptq_tied_model;gptq_tied_object")
endfunction()
q4_weights_refusal(missing_qzeros "missing tensor 'model.layers.1.self_attn.k_proj.qzeros'"
  model.layers.1.self_attn.k_proj.qzeros --rename model.layers.1.self_attn.k_proj.qzeroX)
q4_weights_refusal(misshapen_scales "tensor 'model.layers.0.mlp.down_proj.scales' has shape \\\\[1, 320\\\\], .* expects \\\\[5, 64\\\\]"
  model.layers.0.mlp.down_proj.scales --shape 1,320)
q4_weights_refusal(act_order_g_idx "tensor 'model.layers.0.mlp.up_proj.g_idx' puts input 40 in group 0, not 1"
  model.layers.0.mlp.up_proj.g_idx --poke-i32 40 0)
# AWQ weights for a GPTQ object: named as such, not as "a different model".
add_test(NAME e2e.quant4_refuses_other_format
         COMMAND ${EXPECT_ERROR} "describes 4-bit awq layers \\(group_size 32\\), but .* compiled for 4-bit gptq layers"
                 ${BIN}/qwenrun --model ${Q4}/model.so --weights ${E2E_DIR}/awq_tied --tokens 1)
set_tests_properties(e2e.quant4_refuses_other_format PROPERTIES FIXTURES_REQUIRED "gptq_tied_object;awq_tied_model")
add_test(NAME e2e.quant4_refuses_int8_weight_dtype
         COMMAND ${EXPECT_ERROR} "--weight-dtype int8 does not apply to a 4-bit gptq checkpoint"
                 ${BIN}/qwenc ${Q4}/config.json -o ${E2E_DIR}/never.so --weight-dtype int8)
set_tests_properties(e2e.quant4_refuses_int8_weight_dtype PROPERTIES FIXTURES_REQUIRED gptq_tied_model)
# A config of Qwen's GPTQ shape whose group_size (128) does not fit a small model.
add_test(NAME e2e.quant4_refuses_group_larger_than_input
         COMMAND ${EXPECT_ERROR} "group_size 128 does not divide hidden_size 64"
                 ${BIN}/qwenc ${CMAKE_SOURCE_DIR}/tests/data/gptq/config.json -o ${E2E_DIR}/never.so)

# qwenc's own int4 (`qwenc quantize --bits 4`): rows of 4-bit words for
# every matrix, the embedding (a gather from them) and lm_head included.
qwenc_e2e_case(int4_tied FROM tied_bf16 GEN --bits 4 COMPILE --decode-math f32 TOKENS ${Q4_TIED_TOKENS})
qwenc_e2e_case(int4_qwen3_untied FROM qwen3 GEN --bits 4 --group 16 --shards 2
  COMPILE --prefill-chunk 8 TOKENS ${qwen3_tokens})
add_test(NAME e2e.int4_refuses_vocab_not_multiple_of_8
         COMMAND ${EXPECT_ERROR} "qwenc-int4 needs vocab_size divisible by 8 \\(its lm_head is 4-bit\\), not 1003"
                 ${BIN}/qwenc quantize ${E2E_DIR}/untied_sharded ${E2E_DIR}/int4_never --bits 4 --group 8)
set_tests_properties(e2e.int4_refuses_vocab_not_multiple_of_8 PROPERTIES FIXTURES_REQUIRED untied_sharded_model)
# A qwenc-int4 directory of an earlier qwenc (GPTQ's layout, no "layout"
# field) is named as such, not misread.
add_test(NAME e2e.int4_refuses_earlier_layout
         COMMAND bash -c "mkdir -p '${E2E_DIR}/int4_earlier' && jq '.quantization_config |= (del(.layout) + {checkpoint_format: \"gptq_v2\"})' '${E2E_DIR}/int4_tied/config.json' > '${E2E_DIR}/int4_earlier/config.json' && '${EXPECT_ERROR}' \"field 'layout' = \\(missing\\): an earlier qwenc's int4 \\(GPTQ's layout\\); quantize the model again\" '${BIN}/qwenc' '${E2E_DIR}/int4_earlier/config.json' -o '${E2E_DIR}/int4_earlier/never.so'")
set_tests_properties(e2e.int4_refuses_earlier_layout PROPERTIES FIXTURES_REQUIRED int4_tied_model)
add_test(NAME e2e.int4_refuses_bits_with_other_format
         COMMAND ${EXPECT_ERROR} "--bits 4 does not go with --format awq"
                 ${BIN}/qwenc quantize ${E2E_DIR}/tied_bf16 ${E2E_DIR}/int4_never --bits 4 --format awq)

# Decode's sums in chunks of outputs (quant4_chunk 24: 16 of 512 logits, 20
# of 160 gate rows, 64 hidden rows whole). Pinned to the AVX2 family, whose
# schedule file this is.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(Q4_CHUNK_SCHEDULE ${E2E_DIR}/quant4_chunk24.json)
  file(WRITE ${Q4_CHUNK_SCHEDULE} "{\"qwenc_schedule\": 1, \"schedule\": \"x86-avx2\", \"tiles\": {\"quant4_chunk\": 24, \"quant4_awq_chunk\": 24}}\n")
  foreach(case awq_tied)
    set(d ${E2E_DIR}/${case})
    add_test(NAME e2e.${case}.chunked_sums_match_reference
             COMMAND bash -c "'${BIN}/qwenc' '${d}/config.json' -o '${d}/model-chunk24.so' --target x86-64-linux-avx-avx2-f16c-fma-sse41 --schedule '${Q4_CHUNK_SCHEDULE}' --decode-math f32 --quiet && '${BIN}/qwenrun' --model '${d}/model-chunk24.so' --weights '${d}' --tokens ${Q4_TIED_TOKENS} --max-tokens 0 --dump-logits '${d}/logits-chunk24.bin' && '${BIN}/check-logits' '${d}' ${Q4_TIED_TOKENS} '${d}/logits-chunk24.bin'")
    set_tests_properties(e2e.${case}.chunked_sums_match_reference PROPERTIES FIXTURES_REQUIRED ${case}_model)
  endforeach()
  # ... and AWQ's int8-dot sums in such chunks (16 outputs: 8 byte columns,
  # less than one tile of 16, guarded), within int8-dot's noise of f32's.
  set(d ${E2E_DIR}/awq_tied)
  add_test(NAME e2e.awq_tied.int8_dot.chunked_close_to_f32
           COMMAND bash -c "'${BIN}/qwenc' '${d}/config.json' -o '${d}/model-int8-chunk24.so' --target x86-64-linux-avx-avx2-f16c-fma-sse41 --schedule '${Q4_CHUNK_SCHEDULE}' --decode-math int8-dot --prefill-math f32 --quiet && '${BIN}/qwenrun' --model '${d}/model-int8-chunk24.so' --weights '${d}' --tokens ${Q4_TIED_TOKENS} --max-tokens 0 --eval-decode --quiet --dump-logits '${d}/logits-int8-chunk24.bin' && '${BIN}/qwenc-compare-logits' '${d}/logits.bin' '${d}/logits-int8-chunk24.bin' --vocab 512 --max-diff-std 0.15 --min-top1 0.9")
  set_tests_properties(e2e.awq_tied.int8_dot.chunked_close_to_f32 PROPERTIES FIXTURES_REQUIRED "awq_tied_model;awq_tied_logits")
endif()

# int8-dot decode of 4-bit weights, GPTQ's and AWQ's layouts and
# qwenc-int4's rows (the default on x86 targets with AVX2; asked for here,
# so that any host runs it): activations quantized to int8 per block of 32
# inputs, as llama.cpp's Q4_0 x Q8_0. GPTQ's and AWQ's prefill stays f32;
# the rows' takes int8-dot too. Each token decoded one at a time
# (--eval-decode) is held to the f32 path's logits, which match the
# reference, within the quantization noise (5-10% of the logits' std on
# these tiny random models), and a session's decode to its prefill within
# the same noise.
set(Q4_INT8_DOT_gptq_tied --decode-math int8-dot --prefill-math f32)
set(Q4_INT8_DOT_awq_tied --decode-math int8-dot --prefill-math f32)
set(Q4_INT8_DOT_int4_tied --decode-math int8-dot --prefill-math int8-dot)
foreach(case gptq_tied awq_tied int4_tied)
  set(d ${E2E_DIR}/${case})
  add_test(NAME e2e.${case}.int8_dot.compile
           COMMAND ${BIN}/qwenc ${d}/config.json -o ${d}/model-int8-dot.so ${Q4_INT8_DOT_${case}} --quiet)
  set_tests_properties(e2e.${case}.int8_dot.compile PROPERTIES FIXTURES_REQUIRED ${case}_model FIXTURES_SETUP ${case}_int8_dot)
  add_test(NAME e2e.${case}.int8_dot.decode_close_to_f32
           COMMAND bash -c "'${BIN}/qwenrun' --model '${d}/model-int8-dot.so' --weights '${d}' --tokens ${Q4_TIED_TOKENS} --max-tokens 0 --eval-decode --quiet --dump-logits '${d}/logits-int8-dot.bin' && '${BIN}/qwenc-compare-logits' '${d}/logits.bin' '${d}/logits-int8-dot.bin' --vocab 512 --max-diff-std 0.15 --min-top1 0.9")
  set_tests_properties(e2e.${case}.int8_dot.decode_close_to_f32 PROPERTIES FIXTURES_REQUIRED "${case}_model;${case}_logits;${case}_int8_dot")
  add_test(NAME e2e.${case}.int8_dot.decode_matches_prefill COMMAND ${BIN}/test-session)
  set_tests_properties(e2e.${case}.int8_dot.decode_matches_prefill PROPERTIES
                       FIXTURES_REQUIRED "${case}_model;${case}_int8_dot"
                       ENVIRONMENT "QWENC_TEST_MODEL=${d}/model-int8-dot.so;QWENC_TEST_WEIGHTS=${d};QWENC_TEST_TOLERANCE=0.15")
endforeach()
# The rows' int8-dot prefill (all 20 positions in one call) within the same noise of f32's.
add_test(NAME e2e.int4_tied.int8_dot.prefill_close_to_f32
         COMMAND bash -c "'${BIN}/qwenrun' --model '${E2E_DIR}/int4_tied/model-int8-dot.so' --weights '${E2E_DIR}/int4_tied' --tokens ${Q4_TIED_TOKENS} --max-tokens 0 --quiet --dump-logits '${E2E_DIR}/int4_tied/logits-int8-dot-prefill.bin' && '${BIN}/qwenc-compare-logits' '${E2E_DIR}/int4_tied/logits.bin' '${E2E_DIR}/int4_tied/logits-int8-dot-prefill.bin' --vocab 512 --max-diff-std 0.15 --min-top1 0.9")
set_tests_properties(e2e.int4_tied.int8_dot.prefill_close_to_f32 PROPERTIES FIXTURES_REQUIRED "int4_tied_model;int4_tied_logits;int4_tied_int8_dot")
# ... and its batched steps (int8-dot as its decode) give each sequence its decode's logits.
add_test(NAME e2e.int4_tied.int8_dot.batch_invariance COMMAND ${BIN}/test-batch)
set_tests_properties(e2e.int4_tied.int8_dot.batch_invariance PROPERTIES FIXTURES_REQUIRED "int4_tied_model;int4_tied_int8_dot"
                     ENVIRONMENT "QWENC_TEST_MODEL=${E2E_DIR}/int4_tied/model-int8-dot.so;QWENC_TEST_WEIGHTS=${E2E_DIR}/int4_tied")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # The default decode math of 4-bit weights per target and layout (read
  # from the manifest), and the AVX2 object's sums on vpmaddubsw.
  add_test(NAME e2e.quant4.default_decode_math
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/quant4_default_math.sh ${BIN}/qwenc ${E2E_DIR} ${E2E_DIR}/q4_default_math)
  set_tests_properties(e2e.quant4.default_decode_math PROPERTIES
                       FIXTURES_REQUIRED "gptq_tied_model;int4_tied_model;awq_tied_model;gptq_v2_asym_untied_model")
endif()
# int8-dot refusals with 4-bit weights: GPTQ's and AWQ's prefill, groups off the block.
add_test(NAME e2e.quant4_refuses_int8_dot_prefill
         COMMAND ${EXPECT_ERROR} "--prefill-math int8-dot does not apply to 4-bit gptq layers .*: they take f32, or int8-dot in decode"
                 ${BIN}/qwenc ${Q4}/config.json -o ${E2E_DIR}/never.so --prefill-math int8-dot)
set_tests_properties(e2e.quant4_refuses_int8_dot_prefill PROPERTIES FIXTURES_REQUIRED gptq_tied_model)
add_test(NAME e2e.quant4_refuses_int8_dot_prefill_awq
         COMMAND ${EXPECT_ERROR} "--prefill-math int8-dot does not apply to 4-bit awq layers .*: they take f32, or int8-dot in decode"
                 ${BIN}/qwenc ${E2E_DIR}/awq_tied/config.json -o ${E2E_DIR}/never.so --prefill-math int8-dot)
set_tests_properties(e2e.quant4_refuses_int8_dot_prefill_awq PROPERTIES FIXTURES_REQUIRED awq_tied_model)
add_test(NAME e2e.quant4_refuses_int8_dot_group_8
         COMMAND ${EXPECT_ERROR} "--decode-math int8-dot needs a group_size divisible by 32 \\(it is 8\\)"
                 ${BIN}/qwenc ${E2E_DIR}/gptq_v2_asym_untied/config.json -o ${E2E_DIR}/never.so --decode-math int8-dot)
set_tests_properties(e2e.quant4_refuses_int8_dot_group_8 PROPERTIES FIXTURES_REQUIRED gptq_v2_asym_untied_model)
