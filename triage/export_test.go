package triage

// RadixSort is radixSort, for the tests.
var RadixSort = radixSort
