// The doctest runner for build/aligners_tests. Filter with -tc="name*" or
// -ts="suite"; list with --list-test-cases.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
