# `aligners demo --quick` end to end (the whole pipeline; under 90 seconds).
# The test case is marked skip in the unit run; this entry runs it alone.
add_test(NAME demo_quick COMMAND aligners_tests --test-suite=demo\ pipeline --no-skip)
set_tests_properties(demo_quick PROPERTIES
    ENVIRONMENT "ALIGNERS_BIN=$<TARGET_FILE:aligners>"
    TIMEOUT 600)
