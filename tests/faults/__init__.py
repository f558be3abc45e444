"""Helpers of the fault tests (tests/test_faults_*.py): throwaway service processes and a worker."""
