# int8-dot (opt-in, int8 weights): activations quantized to int8 per block
# of 32 inputs, products on vpdpbusd where the target has AVX512-VNNI (other
# targets get Halide's generic code, so this runs on any host). Its logits
# are held to the int8 model's exact path within the quantization noise, and
# decode must match prefill within that noise too.
set(i8d ${E2E_DIR}/int8_dot)

# The tied int8 model (2 shards), and an untied one over a prime vocabulary
# with an MLP of 96 (8-lane partial sums where the target has 16).
set(i8d_tied_tokens 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20)
set(i8d_untied_tokens 5,900,17,1002,3,44,610,7,8,999,1,2)
add_test(NAME e2e.int8_dot.untied.make_model
         COMMAND bash -c "rm -rf '${i8d}/untied-bf16' '${i8d}/untied' && '${BIN}/qwenc-random-model' --output '${i8d}/untied-bf16' --hidden-size 64 --intermediate-size 96 --num-heads 4 --num-kv-heads 2 --num-layers 2 --vocab-size 1003 --untied --seed 17 && '${BIN}/qwenc' quantize '${i8d}/untied-bf16' '${i8d}/untied' --shards 2 --quiet")
set_tests_properties(e2e.int8_dot.untied.make_model PROPERTIES FIXTURES_SETUP int8_dot_untied_model)

foreach(case tied untied)
  if(case STREQUAL "tied")
    set(weights ${E2E_DIR}/int8_tied)
    set(model_fixture int8_tied_model)
    set(vocab 512)
  else()
    set(weights ${i8d}/untied)
    set(model_fixture int8_dot_untied_model)
    set(vocab 1003)
  endif()
  # Both maths of the same weights: f32 (exact to the reference) and int8-dot.
  foreach(math f32 int8-dot)
    add_test(NAME e2e.int8_dot.${case}.${math}_logits
             COMMAND bash -c "mkdir -p '${i8d}' && '${BIN}/qwenc' '${weights}/config.json' -o '${i8d}/${case}-${math}.so' --decode-math ${math} --prefill-math ${math} --quiet && '${BIN}/qwenrun' --model '${i8d}/${case}-${math}.so' --weights '${weights}' --tokens ${i8d_${case}_tokens} --max-tokens 0 --dump-logits '${i8d}/${case}-${math}.bin'")
    set_tests_properties(e2e.int8_dot.${case}.${math}_logits PROPERTIES FIXTURES_REQUIRED ${model_fixture}
                         FIXTURES_SETUP int8_dot_${case}_${math})
  endforeach()
  add_test(NAME e2e.int8_dot.${case}.f32_matches_reference
           COMMAND ${BIN}/check-logits ${weights} ${i8d_${case}_tokens} ${i8d}/${case}-f32.bin)
  set_tests_properties(e2e.int8_dot.${case}.f32_matches_reference PROPERTIES FIXTURES_REQUIRED "${model_fixture};int8_dot_${case}_f32")
  # Quantized activations cost ~9% of the logits' std on these tiny random
  # models (their logits are close together; top-1 may flip where two are).
  add_test(NAME e2e.int8_dot.${case}.close_to_f32
           COMMAND ${BIN}/qwenc-compare-logits ${i8d}/${case}-f32.bin ${i8d}/${case}-int8-dot.bin --vocab ${vocab}
                   --max-diff-std 0.15 --min-top1 0.9)
  set_tests_properties(e2e.int8_dot.${case}.close_to_f32 PROPERTIES FIXTURES_REQUIRED "int8_dot_${case}_f32;int8_dot_${case}_int8-dot")
  add_test(NAME e2e.int8_dot.${case}.decode_matches_prefill COMMAND ${BIN}/test-session)
  set_tests_properties(e2e.int8_dot.${case}.decode_matches_prefill PROPERTIES
                       FIXTURES_REQUIRED "${model_fixture};int8_dot_${case}_int8-dot"
                       ENVIRONMENT "QWENC_TEST_MODEL=${i8d}/${case}-int8-dot.so;QWENC_TEST_WEIGHTS=${weights};QWENC_TEST_TOLERANCE=0.15")
endforeach()

# int16-dot (the default decode for int8 weights on x86): activations
# quantized to int16 per block of up to 256 inputs (the most up to 256 that
# divide the row: 64 for down_proj's 4160), products on vpdpwssd (VNNI) or vpmaddwd,
# summed in int32 over each block. Tokens decoded one at a time must match
# the prompt's logits (prefill, f32 activations) within 1e-3: int16 keeps
# 2^-16 of each block's largest value, where int8-dot is ~0.1 off and f32
# within 1e-4. On both models above, on rows of 512 and 1024 inputs, which
# take 4 vectors of partial sums per row, and on down_proj rows of 4160
# inputs, past long_row_inputs, which go in tiles of rows.
add_test(NAME e2e.int16_dot.wide.make_model
         COMMAND bash -c "rm -rf '${i8d}/wide-bf16' '${i8d}/wide' && '${BIN}/qwenc-random-model' --output '${i8d}/wide-bf16' --hidden-size 512 --intermediate-size 1024 --num-heads 4 --num-kv-heads 2 --num-layers 1 --vocab-size 256 --seed 19 && '${BIN}/qwenc' quantize '${i8d}/wide-bf16' '${i8d}/wide' --quiet")
set_tests_properties(e2e.int16_dot.wide.make_model PROPERTIES FIXTURES_SETUP int16_dot_wide_model)
add_test(NAME e2e.int16_dot.long.make_model
         COMMAND bash -c "rm -rf '${i8d}/long' && '${BIN}/qwenc' quantize '${E2E_DIR}/tune' '${i8d}/long' --quiet")
set_tests_properties(e2e.int16_dot.long.make_model PROPERTIES FIXTURES_REQUIRED tune_model FIXTURES_SETUP int16_dot_long_model)
foreach(case tied untied wide long)
  if(case STREQUAL "tied")
    set(weights ${E2E_DIR}/int8_tied)
    set(model_fixture int8_tied_model)
  elseif(case STREQUAL "untied")
    set(weights ${i8d}/untied)
    set(model_fixture int8_dot_untied_model)
  elseif(case STREQUAL "wide")
    set(weights ${i8d}/wide)
    set(model_fixture int16_dot_wide_model)
  else()
    set(weights ${i8d}/long)
    set(model_fixture int16_dot_long_model)
  endif()
  if(case STREQUAL "untied")
    set(tokens ${i8d_untied_tokens})
  else()
    set(tokens ${i8d_tied_tokens})
  endif()
  # Decode and batched steps on int16-dot, prefill in f32 (exact): tokens
  # decoded one at a time within 1e-3 of the prompt's logits, and batched
  # steps on int16-dot's own batch tiles: a sequence's logits in a batch
  # are its single stream's within 5e-4 x std (test_batch.cpp says why not
  # 1e-4). Then prefill on int16-dot too (the default for int8 weights on
  # x86 without AVX512-BF16; blocks of 32 to 256 inputs across these
  # models, in prefill's tiles of rows x tokens): the same bounds, and
  # batches (prompt chunks apart, on the prefill stages) within the
  # reference's 1e-3. Both objects' prompt logits within 1e-3 x std of the
  # independent reference.
  foreach(prefill f32 int16-dot)
    if(prefill STREQUAL "f32")
      set(what "")
      set(obj ${i8d}/${case}-int16-dot)
      set(fixture int16_dot_${case})
    else()
      set(what "prefill_")
      set(obj ${i8d}/${case}-int16-prefill)
      set(fixture int16_prefill_${case})
    endif()
    set(name e2e.int16_dot.${case}.${what})
    add_test(NAME ${name}compile
             COMMAND bash -c "mkdir -p '${i8d}' && '${BIN}/qwenc' '${weights}/config.json' -o '${obj}.so' --decode-math int16-dot --prefill-math ${prefill} --quiet")
    set_tests_properties(${name}compile PROPERTIES FIXTURES_REQUIRED ${model_fixture} FIXTURES_SETUP ${fixture})
    add_test(NAME ${name}prompt_matches_reference
             COMMAND bash -c "'${BIN}/qwenrun' --model '${obj}.so' --weights '${weights}' --tokens ${tokens} --max-tokens 0 --quiet --dump-logits '${obj}.bin' && '${BIN}/check-logits' '${weights}' ${tokens} '${obj}.bin'")
    set_tests_properties(${name}prompt_matches_reference PROPERTIES
                         FIXTURES_REQUIRED "${model_fixture};${fixture}" PASS_REGULAR_EXPRESSION "PASS")
    add_test(NAME ${name}decode_matches_prefill COMMAND ${BIN}/test-session)
    set_tests_properties(${name}decode_matches_prefill PROPERTIES FIXTURES_REQUIRED "${model_fixture};${fixture}"
                         ENVIRONMENT "QWENC_TEST_MODEL=${obj}.so;QWENC_TEST_WEIGHTS=${weights};QWENC_TEST_TOLERANCE=1e-3")
    add_test(NAME ${name}batch_invariance COMMAND ${BIN}/test-batch)
    set_tests_properties(${name}batch_invariance PROPERTIES FIXTURES_REQUIRED "${model_fixture};${fixture}"
                         ENVIRONMENT "QWENC_TEST_MODEL=${obj}.so;QWENC_TEST_WEIGHTS=${weights}")
  endforeach()
endforeach()
# qwenrun --eval-decode: the same tokens one at a time, through the decode
# stages: int16-dot's logits against the independent reference.
add_test(NAME e2e.int16_dot.tied.eval_decode_matches_reference
         COMMAND bash -c "'${BIN}/qwenrun' --model '${i8d}/tied-int16-dot.so' --weights '${E2E_DIR}/int8_tied' --tokens ${i8d_tied_tokens} --max-tokens 0 --eval-decode --quiet --dump-logits '${i8d}/tied-int16-dot-decode.bin' && '${BIN}/check-logits' '${E2E_DIR}/int8_tied' ${i8d_tied_tokens} '${i8d}/tied-int16-dot-decode.bin'")
set_tests_properties(e2e.int16_dot.tied.eval_decode_matches_reference PROPERTIES
                     FIXTURES_REQUIRED "int8_tied_model;int16_dot_tied" PASS_REGULAR_EXPRESSION "PASS")
add_test(NAME e2e.qwenrun.eval_decode_needs_dump_logits
         COMMAND ${EXPECT_ERROR} "--eval-decode goes with --tokens and --dump-logits"
                 ${BIN}/qwenrun --model ${i8d}/tied-int16-dot.so --weights ${E2E_DIR}/int8_tied --tokens 1,2 --eval-decode)
set_tests_properties(e2e.qwenrun.eval_decode_needs_dump_logits PROPERTIES FIXTURES_REQUIRED "int8_tied_model;int16_dot_tied")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # For avx512_sapphirerapids targets the products are vpdpbusd (int8-dot)
  # and vpdpwssd (int16-dot, the default decode here), and none is
  # VEX-encoded (AVX-VNNI, which Zen 4 lacks; see compiler/emit/object_writer.h):
  # checked in the object on any x86 host.
  set(SPR_TARGET x86-64-linux-avx-avx2-avx512-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids-f16c-fma-sse41)
  add_test(NAME e2e.int8_dot.emits_evex_vpdpbusd
           COMMAND bash -c "'${BIN}/qwenc' '${E2E_DIR}/int8_tied/config.json' -o '${i8d}/tied-spr.so' --target ${SPR_TARGET} --decode-math int8-dot --prefill-math int8-dot --quiet && objdump -d '${i8d}/tied-spr.so' > '${i8d}/tied-spr.dis' && echo \"vpdpbusd $(grep -c vpdpbusd '${i8d}/tied-spr.dis') vex $(grep -c '{vex}' '${i8d}/tied-spr.dis')\"")
  set_tests_properties(e2e.int8_dot.emits_evex_vpdpbusd PROPERTIES FIXTURES_REQUIRED int8_tied_model
                       PASS_REGULAR_EXPRESSION "vpdpbusd [1-9][0-9]* vex 0")
  add_test(NAME e2e.int16_dot.emits_evex_vpdpwssd
           COMMAND bash -c "'${BIN}/qwenc' '${E2E_DIR}/int8_tied/config.json' -o '${i8d}/tied-spr-int16.so' --target ${SPR_TARGET} --quiet && objdump -d '${i8d}/tied-spr-int16.so' > '${i8d}/tied-spr-int16.dis' && echo \"vpdpwssd $(grep -c vpdpwssd '${i8d}/tied-spr-int16.dis') vex $(grep -c '{vex}' '${i8d}/tied-spr-int16.dis')\"")
  set_tests_properties(e2e.int16_dot.emits_evex_vpdpwssd PROPERTIES FIXTURES_REQUIRED int8_tied_model
                       PASS_REGULAR_EXPRESSION "vpdpwssd [1-9][0-9]* vex 0")
  # AVX2's int16-dot batches (vpmaddwd, 2 x 4 tiles in 16 registers), run
  # on this host: batched logits within int16-dot's bound of the single stream's.
  add_test(NAME e2e.int16_dot.tied_avx2.compile
           COMMAND ${BIN}/qwenc ${E2E_DIR}/int8_tied/config.json -o ${i8d}/tied-int16-avx2.so
                   --target x86-64-linux-avx-avx2-f16c-fma-sse41 --quiet)
  set_tests_properties(e2e.int16_dot.tied_avx2.compile PROPERTIES FIXTURES_REQUIRED int8_tied_model
                       FIXTURES_SETUP int16_dot_tied_avx2)
  # int16-dot prefill's token tile from a schedule file (int16_tokens; 5 by
  # default on AVX2): 3 tokens, so the 20-token prompt ends in a part tile.
  set(i16_tiles ${i8d}/int16_tokens.json)
  file(WRITE ${i16_tiles} "{\"qwenc_schedule\": 1, \"schedule\": \"x86-avx2\", \"tiles\": {\"int16_tokens\": 3}}\n")
  add_test(NAME e2e.int16_dot.tied_avx2.prefill_tile_from_schedule_matches_reference
           COMMAND bash -c "'${BIN}/qwenc' '${E2E_DIR}/int8_tied/config.json' -o '${i8d}/tied-int16-t3.so' --target x86-64-linux-avx-avx2-f16c-fma-sse41 --schedule '${i16_tiles}' --prefill-math int16-dot --quiet && '${BIN}/qwenrun' --model '${i8d}/tied-int16-t3.so' --weights '${E2E_DIR}/int8_tied' --tokens ${i8d_tied_tokens} --max-tokens 0 --quiet --dump-logits '${i8d}/tied-int16-t3.bin' && '${BIN}/check-logits' '${E2E_DIR}/int8_tied' ${i8d_tied_tokens} '${i8d}/tied-int16-t3.bin'")
  set_tests_properties(e2e.int16_dot.tied_avx2.prefill_tile_from_schedule_matches_reference PROPERTIES
                       FIXTURES_REQUIRED int8_tied_model PASS_REGULAR_EXPRESSION "PASS")
  add_test(NAME e2e.int16_dot.tied_avx2.batch_invariance COMMAND ${BIN}/test-batch)
  set_tests_properties(e2e.int16_dot.tied_avx2.batch_invariance PROPERTIES
                       FIXTURES_REQUIRED "int8_tied_model;int16_dot_tied_avx2"
                       ENVIRONMENT "QWENC_TEST_MODEL=${i8d}/tied-int16-avx2.so;QWENC_TEST_WEIGHTS=${E2E_DIR}/int8_tied")
endif()

# Refusals: the integer maths need int8 weights and inputs in whole
# 32-blocks; decode knows no other math.
foreach(math int8-dot int16-dot)
  add_test(NAME e2e.${math}.refuses_dims_off_the_block
           COMMAND ${EXPECT_ERROR} "int8_untied/config.json: --decode-math ${math} needs hidden_size and intermediate_size divisible by 32 \\(hidden_size is 120\\)"
                   ${BIN}/qwenc ${E2E_DIR}/int8_untied/config.json -o ${E2E_DIR}/never.so --decode-math ${math})
  set_tests_properties(e2e.${math}.refuses_dims_off_the_block PROPERTIES FIXTURES_REQUIRED int8_untied_model)
  qwenc_refuses_flags(${math}_on_bf16 "--decode-math ${math} needs int8 weights \\(these are bf16\\)" --decode-math ${math})
endforeach()
qwenc_refuses_flags(int16_dot_prefill_on_bf16 "--prefill-math int16-dot needs int8 weights \\(these are bf16\\)" --prefill-math int16-dot)
qwenc_refuses_flags(decode_math "--decode-math must be f32, bf16-dot, int8-dot, bf16x2-dot or int16-dot \\(got 'fp8'\\)" --decode-math fp8)
