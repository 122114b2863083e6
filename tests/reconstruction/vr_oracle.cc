// Reference VR clustering for tests/test_vr_jets.py: fjcontrib VariableRPlugin(rho, min_r, max_r, AKTLIKE).
// stdin:  rho min_r max_r n_events, then per event: n, followed by n lines "px py pz E".
// stdout: per event "EVENT n_jets", then per jet (pT-ordered) "pt n_constituents idx idx ..." (indices sorted).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include "fastjet/ClusterSequence.hh"
#include "fastjet/contrib/VariableRPlugin.hh"

int main() {
  std::ios::sync_with_stdio(false);
  double rho, min_r, max_r;
  long n_events;
  if (!(std::cin >> rho >> min_r >> max_r >> n_events)) return 2;
  fastjet::ClusterSequence::set_fastjet_banner_stream(nullptr);
  fastjet::contrib::VariableRPlugin plugin(rho, min_r, max_r, fastjet::contrib::VariableRPlugin::AKTLIKE);
  fastjet::JetDefinition jet_def(&plugin);
  for (long ev = 0; ev < n_events; ++ev) {
    long n;
    std::cin >> n;
    std::vector<fastjet::PseudoJet> particles;
    particles.reserve(n);
    for (long i = 0; i < n; ++i) {
      double px, py, pz, e;
      std::cin >> px >> py >> pz >> e;
      fastjet::PseudoJet p(px, py, pz, e);
      p.set_user_index(static_cast<int>(i));
      particles.push_back(p);
    }
    if (n == 0) {
      std::printf("EVENT 0\n");
      continue;
    }
    fastjet::ClusterSequence cs(particles, jet_def);
    std::vector<fastjet::PseudoJet> jets = fastjet::sorted_by_pt(cs.inclusive_jets());
    std::printf("EVENT %zu\n", jets.size());
    for (const auto &jet : jets) {
      std::vector<int> idx;
      for (const auto &c : jet.constituents()) idx.push_back(c.user_index());
      std::sort(idx.begin(), idx.end());
      std::printf("%.17g %zu", jet.pt(), idx.size());
      for (int i : idx) std::printf(" %d", i);
      std::printf("\n");
    }
  }
  return 0;
}
