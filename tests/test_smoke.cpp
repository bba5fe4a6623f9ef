#include <gtest/gtest.h>
#include "attnbench/registry.hpp"
TEST(Smoke, Registry) { EXPECT_FALSE(attnbench::registry().empty()); }
